import { useNewPasswordLink } from "../auth/emailed-links";
import { Alert, PasswordField, passwordHint, SubmitButton } from "../components/form";
import { Page } from "../components/page";
import { RESET_PASSWORD } from "../graphql/documents";
import { Link } from "../router";

const invalidLink = "This reset link is invalid, has expired or has already been used. You can ask for a new one.";

/** Reached from the emailed link; the token is spent only by the button, never by opening the page. */
export function ResetPasswordPage() {
  const { token, isDone, form } = useNewPasswordLink(RESET_PASSWORD, { INVALID_TOKEN: invalidLink });

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
