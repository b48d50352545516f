import { useApolloClient } from "@apollo/client/react";
import { useState } from "react";
import { CaptchaField } from "../components/captcha";
import { Alert, captchaTokenOf, Field, SubmitButton, useSubmit, valueOf } from "../components/form";
import { Page } from "../components/page";
import { REQUEST_PASSWORD_RESET } from "../graphql/documents";
import { Link } from "../router";

export function ForgotPasswordPage() {
  const client = useApolloClient();
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useSubmit(async (element) => {
    const email = valueOf(element, "email");
    await client.mutate({ mutation: REQUEST_PASSWORD_RESET, variables: { email, ...captchaTokenOf(element) } });
    setSentTo(email);
  });

  return (
    <Page title="Reset your password">
      {sentTo ? (
        <p role="status" className="notice">
          If an account exists for {sentTo}, we sent it a link to choose a new password. The link works once and expires soon.
        </p>
      ) : (
        <>
          <p>Enter the email address of your account and we will send you a link to choose a new password.</p>
          <form onSubmit={form.onSubmit} noValidate>
            <Alert problem={form.problem} />
            <Field name="email" label="Email address" type="email" autoComplete="email" inputMode="email" required error={form.errorFor("email")} />
            <CaptchaField form={form} />
            <SubmitButton form={form} label="Send the link" busyLabel="Sending…" />
          </form>
        </>
      )}
      <p>
        <Link to="/sign-in">Back to sign in</Link>
      </p>
    </Page>
  );
}
