import { useApolloClient, useQuery } from "@apollo/client/react";
import { useState } from "react";
import { Alert, Field, PasswordField, SubmitButton, useSubmit, valueOf } from "../components/form";
import { Page } from "../components/page";
import { ME, REQUEST_EMAIL_CHANGE } from "../graphql/documents";

export function ChangeEmailPage() {
  const client = useApolloClient();
  const { data } = useQuery(ME, { fetchPolicy: "cache-first" });
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useSubmit(async (element) => {
    const newEmail = valueOf(element, "newEmail").trim();
    await client.mutate({ mutation: REQUEST_EMAIL_CHANGE, variables: { newEmail, password: valueOf(element, "password") } });
    element.reset();
    setSentTo(newEmail);
  });

  return (
    <Page title="Change your email address">
      {sentTo ? (
        <p className="notice" role="status">
          We sent a link to {sentTo}. Open it to make that your address; until then it stays {data?.me?.email ?? "as it is"}.
        </p>
      ) : (
        <p>We send a link to the new address: it becomes yours once you open it. Your current address is told of the change.</p>
      )}
      <form onSubmit={form.onSubmit} noValidate>
        <Alert problem={form.problem} />
        <Field name="newEmail" label="New email address" type="email" autoComplete="email" inputMode="email" required error={form.errorFor("newEmail")} />
        <PasswordField name="password" label="Your password, to confirm" autoComplete="current-password" required error={form.errorFor("password")} />
        <SubmitButton form={form} label="Send the link" busyLabel="Sending…" />
      </form>
    </Page>
  );
}
