import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, Navigate, Route, Routes } from 'react-router';
import { api, ApiProblem, setCsrf } from './api.ts';
import type { Session } from './api-types.ts';
import { Connect } from './pages/Connect.tsx';
import { Connections } from './pages/Connections.tsx';
import { Dashboard } from './pages/Dashboard.tsx';
import { Directory } from './pages/Directory.tsx';
import { MappingEditor } from './pages/MappingEditor.tsx';
import { OrgChart } from './pages/OrgChart.tsx';
import { RunDetail } from './pages/RunDetail.tsx';
import { Settings } from './pages/Settings.tsx';
import { Tokens } from './pages/Tokens.tsx';
import { Wizard } from './pages/Wizard.tsx';
import { Admins } from './pages/Admins.tsx';
import { History } from './pages/History.tsx';
import { EmailSettings } from './pages/EmailSettings.tsx';
import { UserPage } from './pages/UserPage.tsx';
import { SignIn } from './pages/SignIn.tsx';

// The console: signed in, a header and the pages; signed out, the sign-in page. It uses the public API only.

export function App() {
  const client = useQueryClient();
  const session = useQuery({
    queryKey: ['session'],
    queryFn: async () => {
      try {
        const s = await api<Session>('GET', '/auth/session');
        setCsrf(s.csrfToken);
        return s;
      } catch (error) {
        if (error instanceof ApiProblem && error.status === 401) return null;
        throw error;
      }
    },
  });
  if (session.isPending) return <p className="loading">Loading…</p>;
  if (!session.data) return <SignIn onSignedIn={() => client.invalidateQueries({ queryKey: ['session'] })} />;
  // Signing out reloads the console: nothing read while signed in stays in the page, and the sign-in page shows.
  const signOut = async () => {
    await api('POST', '/auth/sign-out');
    setCsrf(null);
    window.location.assign('/');
  };
  return (
    <>
      <header className="top">
        <Link to="/" className="brand">
          usersync
        </Link>
        <nav aria-label="Main">
          <Link to="/">Connections</Link>
          <Link to="/tokens">API tokens</Link>
          <Link to="/admins">Admins</Link>
          <a href="/api/docs">API</a>
        </nav>
        <span className="who">
          {session.data.email}{' '}
          <button type="button" className="link" onClick={signOut}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        <Routes>
          <Route path="/" element={<Connections />} />
          <Route path="/connect" element={<Connect />} />
          <Route path="/connections/:id" element={<Dashboard />} />
          <Route path="/connections/:id/users" element={<Directory />} />
          <Route path="/connections/:id/users/:userId" element={<UserPage />} />
          <Route path="/admins" element={<Admins />} />
          <Route path="/connections/:id/org-chart" element={<OrgChart />} />
          <Route path="/connections/:id/mapping" element={<MappingEditor />} />
          <Route path="/connections/:id/settings" element={<Settings />} />
          <Route path="/connections/:id/setup" element={<Wizard />} />
          <Route path="/connections/:id/emails" element={<EmailSettings />} />
          <Route path="/tokens" element={<Tokens />} />
          <Route path="/connections/:id/runs" element={<History />} />
          <Route path="/connections/:id/runs/:runId" element={<RunDetail />} />
          <Route path="*" element={<Navigate to="/" replace />} />
        </Routes>
      </main>
    </>
  );
}
