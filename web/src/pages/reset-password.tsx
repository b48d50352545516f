import { useApolloClient } from "@apollo/client/react";
import { useEffect, useState } from "react";
import { useAuthState, useTokens } from "../auth/auth-context";
import { Alert, PasswordField, passwordHint, SubmitButton, useSubmit, valueOf } from "../components/form";
import { Page } from "../components/page";
import { RESET_PASSWORD } from "../graphql/documents";
import { Link, useRoute } from "../router";

const invalidLink = "This reset link is invalid, has expired or has already been used. You can ask for a new one.";

/** Reached from the emailed link; the token is spent only by the button, never by opening the page. */
export function ResetPasswordPage() {
  const client = useApolloClient();
  const tokens = useTokens();
  const state = useAuthState();
  const { query } = useRoute();
  const [token] = useState(() => query.get("token"));
  // Out of the address bar and the tab's history once read: Back on a shared computer must not
  // bring the form back with a live token (a reload then asks for the emailed link again). The
  // verification page keeps its token until spent: one confirms an address, nothing more.
  useEffect(() => {
    if (token) history.replaceState(null, "", location.pathname);
  }, [token]);
  const [isDone, setDone] = useState(false);
  const form = useSubmit(
    async (element) => {
      if (!token) return;
      await client.mutate({ mutation: RESET_PASSWORD, variables: { token, newPassword: valueOf(element, "newPassword") } });
      // A reset ends every session of its account. Whether that was this browser's account, a
      // refresh tells: it ends this side too if so, and leaves another account signed in.
      if (state === "signed-in") await tokens.refresh().catch(() => {});
      setDone(true);
    },
    { INVALID_TOKEN: invalidLink },
  );

  if (isDone) {
    return (
      <Page title="Your password is reset">
        <p role="status">You can now sign in with your new password. Every session was signed out.</p>
        <p>
          <Link to="/sign-in" className="button">
            Sign in
          </Link>
        </p>
      </Page>
    );
  }
  if (!token) {
    return (
      <Page title="Choose a new password">
        <div className="alert" role="alert">
          <p>This page needs the link from the email we sent you.</p>
        </div>
        <p>
          <Link to="/forgot-password">Ask for a reset link</Link>
        </p>
      </Page>
    );
  }
  return (
    <Page title="Choose a new password">
      <form onSubmit={form.onSubmit} noValidate>
        <Alert problem={form.problem}>
          {form.code === "INVALID_TOKEN" && (
            <p>
              <Link to="/forgot-password">Ask for a new link</Link>
            </p>
          )}
        </Alert>
        <PasswordField name="newPassword" label="New password" autoComplete="new-password" required hint={passwordHint} error={form.errorFor("newPassword")} />
        <SubmitButton form={form} label="Set the new password" busyLabel="Saving…" />
      </form>
    </Page>
  );
}
