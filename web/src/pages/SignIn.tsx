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
      {status.data && !status.data.admins && <FirstAdmin onSignedIn={onSignedIn} />}
      {status.data?.admins !== false && (
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
      )}
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

/** The first run: the first admin, made with the one-time setup code `usersync serve` printed (the link carries it). */
function FirstAdmin({ onSignedIn }: { onSignedIn: () => void }) {
  const [code, setCode] = useState(() => new URLSearchParams(window.location.search).get('setup') ?? '');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const mismatch = again !== '' && again !== password;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (mismatch) return;
    setProblem(null);
    try {
      const session = await api<Session>('POST', '/auth/first-admin', { setupCode: code, email, password });
      setCsrf(session.csrfToken);
      window.history.replaceState(null, '', '/');
      onSignedIn();
    } catch (error) {
      if (error instanceof ApiProblem) setProblem(error);
      else throw error;
    }
  }
  const fieldError = (name: string) => problem?.field(name);
  const general = problem && !['setupCode', 'email', 'password'].some((f) => problem.field(f));

  return (
    <form onSubmit={submit} aria-labelledby="first-admin-title">
      <h2 id="first-admin-title">Create the first admin</h2>
      <p className="hint">
        usersync has no admin yet. Use the setup link <code>usersync serve</code> printed when it started (it fills in
        the code), or run <code>usersync admin create --email you@example.com</code> on the server.
      </p>
      <label htmlFor="setup-code">Setup code</label>
      <input
        id="setup-code"
        value={code}
        onChange={(e) => setCode(e.target.value)}
        required
        aria-invalid={!!fieldError('setupCode')}
        aria-describedby={fieldError('setupCode') ? 'setup-code-error' : undefined}
      />
      {fieldError('setupCode') && (
        <p id="setup-code-error" className="error">
          {fieldError('setupCode')}
        </p>
      )}
      <label htmlFor="first-email">Your email</label>
      <input
        id="first-email"
        type="email"
        autoComplete="username"
        value={email}
        onChange={(e) => setEmail(e.target.value)}
        required
        aria-invalid={!!fieldError('email')}
      />
      {fieldError('email') && <p className="error">{fieldError('email')}</p>}
      <label htmlFor="first-password">Password (12 characters or more)</label>
      <input
        id="first-password"
        type="password"
        autoComplete="new-password"
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        required
        aria-invalid={!!fieldError('password')}
      />
      {fieldError('password') && <p className="error">{fieldError('password')}</p>}
      <label htmlFor="first-again">Password again</label>
      <input
        id="first-again"
        type="password"
        autoComplete="new-password"
        value={again}
        onChange={(e) => setAgain(e.target.value)}
        required
        aria-invalid={mismatch}
      />
      {mismatch && <p className="error">The passwords differ.</p>}
      {general && (
        <p role="alert" className="error">
          {problem.message}
          {problem.problem.hint && <span className="hint"> {problem.problem.hint}</span>}
        </p>
      )}
      {problem && !general && (
        <p role="alert" className="visually-hidden">
          {problem.message}
        </p>
      )}
      <button type="submit">Create the admin and sign in</button>
    </form>
  );
}
