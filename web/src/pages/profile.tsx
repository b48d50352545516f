import { useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { Alert } from "../components/form";
import { Page } from "../components/page";
import { describeError, type Problem } from "../errors";
import { formatDate } from "../format";
import { CANCEL_EMAIL_CHANGE, ME, REQUEST_EMAIL_VERIFICATION } from "../graphql/documents";
import { Link } from "../router";

/** What a button of the page does: whether it has succeeded, and why its last attempt failed. */
function useButtonAction(action: () => Promise<unknown>): { run: () => Promise<void>; isDone: boolean; problem: Problem | null } {
  const [isDone, setDone] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const run = async () => {
    setProblem(null);
    try {
      await action();
      setDone(true);
    } catch (failure) {
      setProblem(describeError(failure));
    }
  };
  return { run, isDone, problem };
}

export function ProfilePage() {
  const { data, error, loading } = useQuery(ME, { fetchPolicy: "cache-and-network" });
  const [requestVerification, { loading: isSending }] = useMutation(REQUEST_EMAIL_VERIFICATION);
  // The profile is read again after a cancel: its pending address is gone.
  const [cancelChange, { loading: isCancelling }] = useMutation(CANCEL_EMAIL_CHANGE, { refetchQueries: [ME], awaitRefetchQueries: true });
  const resend = useButtonAction(requestVerification);
  const cancel = useButtonAction(cancelChange);
  const me = data?.me;

  return (
    <Page title="Your profile">
      {!me && loading && <p aria-live="polite">Loading your profile…</p>}
      {!me && error && <Alert problem={describeError(error)} />}
      {me && (
        <>
          <dl className="details">
            <div>
              <dt>Name</dt>
              <dd>{me.name ?? <span className="muted">Not set</span>}</dd>
            </div>
            <div>
              <dt>Email address</dt>
              <dd>
                {me.email}{" "}
                <span className={me.emailVerified ? "badge ok" : "badge warn"}>{me.emailVerified ? "Verified" : "Not verified"}</span>
              </dd>
            </div>
            <div>
              <dt>Role</dt>
              <dd>{me.role === "ADMIN" ? "Administrator" : "User"}</dd>
            </div>
            <div>
              <dt>Member since</dt>
              <dd>{formatDate(me.createdAt)}</dd>
            </div>
          </dl>
          {!me.emailVerified && (
            <div className="panel">
              <p>Please confirm your email address with the link we sent you.</p>
              <Alert problem={resend.problem} />
              {resend.isDone ? (
                <p role="status">We sent a new link to {me.email}.</p>
              ) : (
                <button type="button" className="secondary" onClick={() => void resend.run()} aria-disabled={isSending}>
                  {isSending ? "Sending…" : "Send a new link"}
                </button>
              )}
            </div>
          )}
          {me.pendingEmail && (
            <div className="panel">
              <p>
                We sent a link to {me.pendingEmail}: once it is opened there, that becomes your email address. Until then your address stays {me.email}.
              </p>
              <Alert problem={cancel.problem} />
              <button type="button" className="secondary" onClick={() => void cancel.run()} aria-disabled={isCancelling}>
                {isCancelling ? "Cancelling…" : "Cancel the change"}
              </button>
            </div>
          )}
          {cancel.isDone && !me.pendingEmail && <p role="status">The change is cancelled: the link we sent no longer works.</p>}
          <ul className="actions">
            <li>
              <Link to="/edit-profile">Edit your profile</Link>
            </li>
            <li>
              <Link to="/sessions">Where you are signed in</Link>
            </li>
            <li>
              <Link to="/change-email">Change your email address</Link>
            </li>
            <li>
              <Link to="/change-password">Change your password</Link>
            </li>
            {me.role === "USER" && (
              <li>
                <Link to="/delete-account">Delete your account</Link>
              </li>
            )}
          </ul>
        </>
      )}
    </Page>
  );
}
