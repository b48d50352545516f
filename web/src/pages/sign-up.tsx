import { useApolloClient } from "@apollo/client/react";
import { useTokens } from "../auth/auth-context";
import { CaptchaField } from "../components/captcha";
import { Alert, captchaTokenOf, Field, passwordHint, PasswordField, SubmitButton, useSubmit, valueOf } from "../components/form";
import { Page } from "../components/page";
import { REGISTER } from "../graphql/documents";
import { Link, navigate } from "../router";
import { settings } from "../settings";

export function SignUpPage() {
  const client = useApolloClient();
  const tokens = useTokens();
  const form = useSubmit(async (element) => {
    const input = { name: valueOf(element, "name") || null, email: valueOf(element, "email"), password: valueOf(element, "password"), ...captchaTokenOf(element) };
    const { data } = await client.mutate({ mutation: REGISTER, variables: { input, withRefreshToken: !settings.refreshTokenCookie } });
    if (data) tokens.signIn(data.register);
    navigate("/profile", { replace: true, notice: `Welcome! We sent a link to ${input.email} to confirm your address.` });
  });
  const emailTaken = form.code === "EMAIL_TAKEN";

  return (
    <Page title="Create an account">
      <form onSubmit={form.onSubmit} noValidate>
        <Alert problem={form.problem} />
        <Field name="name" label="Name (optional)" autoComplete="name" maxLength={100} error={form.errorFor("name")} />
        <Field name="email" label="Email address" type="email" autoComplete="email" inputMode="email" required error={form.errorFor("email")} />
        {emailTaken && (
          <p className="field-help">
            Is it yours? <Link to="/sign-in">Sign in</Link> or <Link to="/forgot-password">reset your password</Link>.
          </p>
        )}
        <PasswordField name="password" label="Password" autoComplete="new-password" required hint={passwordHint} error={form.errorFor("password")} />
        <CaptchaField form={form} />
        <SubmitButton form={form} label="Create account" busyLabel="Creating your account…" />
      </form>
      <p>
        Already have an account? <Link to="/sign-in">Sign in</Link>
      </p>
    </Page>
  );
}
