import { useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { useSignOut } from "../auth/auth-context";
import { Alert } from "../components/form";
import { Page } from "../components/page";
import { describeError, type Problem } from "../errors";
import { deviceName } from "../../../src/device-names";
import { formatDateTime } from "../format";
import { LOGOUT_ALL, MY_SESSIONS, REVOKE_SESSION, type SessionInfo } from "../graphql/documents";

function SessionItem({ session, onRevoke }: { session: SessionInfo; onRevoke(session: SessionInfo): void }) {
  const device = deviceName(session.userAgent) ?? "Unknown device";
  return (
    <li className="session">
      <div>
        <p className="session-device">
          {device} {session.current && <span className="badge ok">This device</span>}
        </p>
        <p className="muted">
          Last active {formatDateTime(session.lastUsedAt)}
          {session.ip && <> · {session.ip}</>}
        </p>
        <p className="muted">Signed in {formatDateTime(session.createdAt)}</p>
      </div>
      {!session.current && (
        <button type="button" className="secondary" onClick={() => onRevoke(session)}>
          Sign out<span className="visually-hidden"> {device}, last active {formatDateTime(session.lastUsedAt)}</span>
        </button>
      )}
    </li>
  );
}

export function SessionsPage() {
  const { data, error, loading } = useQuery(MY_SESSIONS, { fetchPolicy: "network-only" });
  const [revokeSession] = useMutation(REVOKE_SESSION, { refetchQueries: [MY_SESSIONS], awaitRefetchQueries: true });
  const [logoutAll] = useMutation(LOGOUT_ALL);
  const signOut = useSignOut();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [isConfirming, setConfirming] = useState(false);

  const revoke = async (session: SessionInfo) => {
    setProblem(null);
    try {
      await revokeSession({ variables: { id: session.id } });
      setStatus(`Signed out ${deviceName(session.userAgent) ?? "that device"}.`);
    } catch (failure) {
      setProblem(describeError(failure, { FORBIDDEN: "That session has already ended." }));
    }
  };

  const signOutEverywhere = async () => {
    setProblem(null);
    try {
      await logoutAll();
      // Every session has ended on the service, this one too: only the local part is left.
      await signOut("You are signed out on every device.", { hasEnded: true });
    } catch (failure) {
      setProblem(describeError(failure));
    }
  };

  const sessions = data?.mySessions ?? [];
  return (
    <Page title="Where you are signed in">
      <Alert problem={problem ?? (error ? describeError(error) : null)} />
      {status && (
        <p className="notice" role="status">
          {status}
        </p>
      )}
      {loading && !data && <p aria-live="polite">Loading your sessions…</p>}
      {data && (
        <ul className="sessions" aria-label="Sessions">
          {sessions.map((session) => (
            <SessionItem key={session.id} session={session} onRevoke={(s) => void revoke(s)} />
          ))}
        </ul>
      )}
      <div className="panel danger">
        <h2>Sign out everywhere</h2>
        <p>Ends every session, this one too. Use it when a device is lost or you think someone else signed in.</p>
        {isConfirming ? (
          <div className="button-row">
            <button type="button" className="danger" onClick={() => void signOutEverywhere()}>
              Yes, sign out everywhere
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Sign out everywhere
          </button>
        )}
      </div>
    </Page>
  );
}
