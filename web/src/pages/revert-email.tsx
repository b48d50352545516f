import { useNewPasswordLink } from "../auth/emailed-links";
import { Alert, PasswordField, passwordHint, SubmitButton } from "../components/form";
import { Page } from "../components/page";
import { REVERT_EMAIL_CHANGE } from "../graphql/documents";
import { Link } from "../router";

const invalidLink = "This link is invalid, has expired or has already been used, or the account was already taken back with an earlier one.";
const addressTaken = "Another account now uses this address, so it cannot be given back to yours. Please contact the people who run this service.";

/**
 * Reached from the notice sent to the address an account moved away from. The token is spent only
 * by the button, never by opening the page: a mail scanner must not undo a change on its own.
 */
export function RevertEmailPage() {
  const { token, isDone, form } = useNewPasswordLink(REVERT_EMAIL_CHANGE, { INVALID_TOKEN: invalidLink, EMAIL_TAKEN: addressTaken });

  if (isDone) {
    return (
      <Page title="Your email address is restored">
        <p role="status">Your account has the address this link was sent to again. Sign in with it and your new password: every session was signed out.</p>
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
      <Page title="Take back your account">
        <div className="alert" role="alert">
          <p>This page needs the link from the email we sent you.</p>
        </div>
        <p>It is in the email that told this address the account moved to another one. Without it, contact the people who run this service.</p>
      </Page>
    );
  }
  return (
    <Page title="Take back your account">
      <p>
        If you did not change your account's email address, this gives your account back the address this link was sent to, sets a new password and signs out every
        session of the account, including whoever made the change.
      </p>
      <form onSubmit={form.onSubmit} noValidate>
        <Alert problem={form.problem}>
          {form.code === "INVALID_TOKEN" && (
            <p>
              If the address is already back, <Link to="/sign-in">sign in</Link> or <Link to="/forgot-password">reset your password</Link>. If not, contact the people who
              run this service.
            </p>
          )}
        </Alert>
        <PasswordField name="newPassword" label="New password" autoComplete="new-password" required hint={passwordHint} error={form.errorFor("newPassword")} />
        <SubmitButton form={form} label="Take back my account" busyLabel="Saving…" />
      </form>
    </Page>
  );
}
