import { useApolloClient } from "@apollo/client/react";
import { useSignOut } from "../auth/auth-context";
import { Alert, PasswordField, SubmitButton, useSubmit, valueOf } from "../components/form";
import { Page } from "../components/page";
import { DELETE_ACCOUNT } from "../graphql/documents";

export function DeleteAccountPage() {
  const client = useApolloClient();
  const signOut = useSignOut();
  const form = useSubmit(
    async (element) => {
      await client.mutate({ mutation: DELETE_ACCOUNT, variables: { password: valueOf(element, "password") } });
      // The service deleted every session with the account, this one too: only this side is left.
      await signOut("Your account is deleted.", { hasEnded: true });
    },
    // An admin's account, or one whose address change can still be undone: the service says which, and until when.
    { FORBIDDEN: (serverMessage) => serverMessage },
  );

  return (
    <Page title="Delete your account">
      <p>
        Your account, your profile and every session of it are deleted at once, and you are signed out on every device. This cannot be undone, though you may
        sign up again with the same email address.
      </p>
      <form onSubmit={form.onSubmit} noValidate>
        <Alert problem={form.problem} />
        <PasswordField name="password" label="Your password, to confirm" autoComplete="current-password" required error={form.errorFor("password")} />
        <SubmitButton form={form} label="Delete my account" busyLabel="Deleting…" isDanger />
      </form>
    </Page>
  );
}
