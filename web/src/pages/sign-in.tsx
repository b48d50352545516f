import { useApolloClient } from "@apollo/client/react";
import { useTokens } from "../auth/auth-context";
import { CaptchaField } from "../components/captcha";
import { Alert, captchaTokenOf, Field, PasswordField, SubmitButton, useSubmit, valueOf } from "../components/form";
import { Page } from "../components/page";
import { LOGIN } from "../graphql/documents";
import { Link, navigate, useRoute } from "../router";
import { settings } from "../settings";

/** Only paths of these pages: a `next` from the address bar never leads elsewhere. */
function nextPath(query: URLSearchParams): string {
  const next = query.get("next");
  return next && /^\/[a-z-]+$/.test(next) ? next : "/profile";
}

export function SignInPage() {
  const client = useApolloClient();
  const tokens = useTokens();
  const { query } = useRoute();
  const form = useSubmit(
    async (element) => {
      const input = { email: valueOf(element, "email"), password: valueOf(element, "password"), ...captchaTokenOf(element) };
      const { data } = await client.mutate({ mutation: LOGIN, variables: { input, withRefreshToken: !settings.refreshTokenCookie } });
      if (data) tokens.signIn(data.login);
      navigate(nextPath(query), { replace: true });
    },
    { UNAUTHENTICATED: "The email address or the password is not right." },
  );

  return (
    <Page title="Sign in">
      <form onSubmit={form.onSubmit} noValidate>
        <Alert problem={form.problem} />
        <Field name="email" label="Email address" type="email" autoComplete="username" inputMode="email" required error={form.errorFor("email")} />
        <PasswordField name="password" label="Password" autoComplete="current-password" required error={form.errorFor("password")} />
        <CaptchaField form={form} />
        <SubmitButton form={form} label="Sign in" busyLabel="Signing in…" />
      </form>
      <p>
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
      <p>
        New here? <Link to="/sign-up">Create an account</Link>
      </p>
    </Page>
  );
}
