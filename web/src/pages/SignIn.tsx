import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, ApiProblem, setCsrf } from '../api.ts';
import type { AuthStatus, Session } from '../api-types.ts';

// Signing in: a password, or Sign in with Microsoft when the server has it; the first run says how to make an admin.

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const status = useQuery({ queryKey: ['auth-status'], queryFn: () => api<AuthStatus>('GET', '/auth/status') });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const params = new URLSearchParams(window.location.search);
  const refused = params.get('signInError');

  async function submit(event: FormEvent) {
    event.preventDefault();
    setProblem(null);
    try {
      const session = await api<Session>('POST', '/auth/sign-in', { email, password });
      setCsrf(session.csrfToken);
      onSignedIn();
    } catch (error) {
      if (error instanceof ApiProblem) setProblem(error);
      else throw error;
    }
  }

  return (
    <main className="narrow">
      <h1>Sign in to usersync</h1>
      {refused && (
        <p role="alert" className="error">
          {refused}
          {params.get('hint') && <span className="hint"> {params.get('hint')}</span>}
        </p>
      )}
      {status.data && !status.data.admins && (
        <p className="notice">
          There is no admin yet. On the server, run <code>usersync admin create --email you@example.com</code>, then
          sign in here.
        </p>
      )}
      <form onSubmit={submit} aria-describedby={problem ? 'sign-in-error' : undefined}>
        <label htmlFor="email">Email</label>
        <input
          id="email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          required
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          required
        />
        {problem && (
          <p id="sign-in-error" role="alert" className="error">
            {problem.message}
            {problem.problem.hint && <span className="hint"> {problem.problem.hint}</span>}
          </p>
        )}
        <button type="submit">Sign in</button>
      </form>
      {status.data?.microsoft && (
        <p>
          <a className="button secondary" href="/api/v1/auth/microsoft">
            Sign in with Microsoft
          </a>
        </p>
      )}
    </main>
  );
}
