import { useMutation, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { Alert } from "../components/form";
import { Page } from "../components/page";
import { describeError, type Problem } from "../errors";
import { formatDate } from "../format";
import { ME, REQUEST_EMAIL_VERIFICATION } from "../graphql/documents";
import { Link } from "../router";

export function ProfilePage() {
  const { data, error, loading } = useQuery(ME, { fetchPolicy: "cache-and-network" });
  const [requestVerification, { loading: isSending }] = useMutation(REQUEST_EMAIL_VERIFICATION);
  const [sent, setSent] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const me = data?.me;

  const resend = async () => {
    setProblem(null);
    try {
      await requestVerification();
      setSent(true);
    } catch (failure) {
      setProblem(describeError(failure));
    }
  };

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
              <Alert problem={problem} />
              {sent ? (
                <p role="status">We sent a new link to {me.email}.</p>
              ) : (
                <button type="button" className="secondary" onClick={() => void resend()} aria-disabled={isSending}>
                  {isSending ? "Sending…" : "Send a new link"}
                </button>
              )}
            </div>
          )}
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
