import { useApolloClient } from "@apollo/client/react";
import { useState } from "react";
import { useTokens } from "../auth/auth-context";
import { Alert, PasswordField, passwordHint, SubmitButton, useSubmit, valueOf } from "../components/form";
import { Page } from "../components/page";
import { CHANGE_PASSWORD } from "../graphql/documents";

export function ChangePasswordPage() {
  const client = useApolloClient();
  const tokens = useTokens();
  const [isDone, setDone] = useState(false);
  const form = useSubmit(async (element) => {
    setDone(false);
    const variables = { currentPassword: valueOf(element, "currentPassword"), newPassword: valueOf(element, "newPassword") };
    await client.mutate({ mutation: CHANGE_PASSWORD, variables });
    element.reset();
    setDone(true);
    // The change retired every access token, this tab's too; the session itself goes on. The
    // password is changed whether or not this refresh gets through (the next request retries it):
    // reporting a failure here would send the user back to a form whose old password is gone.
    await tokens.refresh().catch(() => {});
  });

  return (
    <Page title="Change your password">
      {isDone && (
        <p className="notice" role="status">
          Your password is changed. Every other session was signed out.
        </p>
      )}
      <form onSubmit={form.onSubmit} noValidate>
        <Alert problem={form.problem} />
        <PasswordField name="currentPassword" label="Current password" autoComplete="current-password" required error={form.errorFor("currentPassword")} />
        <PasswordField name="newPassword" label="New password" autoComplete="new-password" required hint={passwordHint} error={form.errorFor("newPassword")} />
        <SubmitButton form={form} label="Change password" busyLabel="Changing…" />
      </form>
    </Page>
  );
}
