import { useApolloClient } from "@apollo/client/react";
import { useState } from "react";
import { useAuthState } from "../auth/auth-context";
import { useRefreshIfSignedIn } from "../auth/emailed-links";
import { Alert, SubmitButton, useSubmit } from "../components/form";
import { Page } from "../components/page";
import { VERIFY_EMAIL } from "../graphql/documents";
import { Link, useRoute } from "../router";

/**
 * Reached from the emailed link. Mail scanners open links to look at them: the token is spent by
 * the button (a POST), never by opening the page.
 */
export function VerifyEmailPage() {
  const client = useApolloClient();
  const state = useAuthState();
  const refreshIfSignedIn = useRefreshIfSignedIn();
  const { query } = useRoute();
  const [token] = useState(() => query.get("token"));
  const [verified, setVerified] = useState<string | null>(null);
  const form = useSubmit(
    async () => {
      if (!token) return;
      const { data } = await client.mutate({ mutation: VERIFY_EMAIL, variables: { token } });
      history.replaceState(null, "", location.pathname);
      setVerified(data?.verifyEmail.email ?? "");
      // A new access token carries email_verified: true. The address is confirmed whether or not
      // this refresh gets through: a failure only leaves the claim stale until the next one.
      await refreshIfSignedIn();
    },
  );

  if (verified !== null) {
    return (
      <Page title="Email address confirmed">
        <p role="status">Thank you: {verified} is confirmed.</p>
        <p>
          <Link to={state === "signed-in" ? "/profile" : "/sign-in"} className="button">
            {state === "signed-in" ? "Go to your profile" : "Sign in"}
          </Link>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Confirm your email address">
      {token ? (
        <form onSubmit={form.onSubmit}>
          <Alert problem={form.problem}>
            {form.code === "INVALID_TOKEN" && (
              <p>
                Only the newest link we sent works.{" "}
                {state === "signed-in" ? (
                  <>
                    Your <Link to="/profile">profile page</Link> can send a new one.
                  </>
                ) : (
                  <>
                    <Link to="/sign-in?next=/profile">Sign in</Link>, and your profile page can send a new one.
                  </>
                )}
              </p>
            )}
          </Alert>
          <p>Press the button to confirm that this address is yours.</p>
          <SubmitButton form={form} label="Confirm my email address" busyLabel="Confirming…" />
        </form>
      ) : (
        <div className="alert" role="alert">
          <p>This page needs the link from the email we sent you.</p>
        </div>
      )}
    </Page>
  );
}
