import { Fragment, type ReactNode } from "react";
import { useAuthState, useTokens } from "./auth/auth-context";
import { Layout } from "./components/layout";
import { Redirect } from "./components/page";
import { SESSION_ENDED } from "./errors";
import { ChangeEmailPage } from "./pages/change-email";
import { ChangePasswordPage } from "./pages/change-password";
import { DeleteAccountPage } from "./pages/delete-account";
import { EditProfilePage } from "./pages/edit-profile";
import { ForgotPasswordPage } from "./pages/forgot-password";
import { NotFoundPage } from "./pages/not-found";
import { ProfilePage } from "./pages/profile";
import { ResetPasswordPage } from "./pages/reset-password";
import { RevertEmailPage } from "./pages/revert-email";
import { SessionsPage } from "./pages/sessions";
import { SignInPage } from "./pages/sign-in";
import { SignUpPage } from "./pages/sign-up";
import { VerifyEmailPage } from "./pages/verify-email";
import { useRoute } from "./router";

/** Who may see a page: anyone, only the signed-in, or only the signed-out (sign in, sign up). */
type Access = "any" | "signed-in" | "signed-out";

const ROUTES: Record<string, { access: Access; render: () => ReactNode }> = {
  "/sign-in": { access: "signed-out", render: () => <SignInPage /> },
  "/sign-up": { access: "signed-out", render: () => <SignUpPage /> },
  "/forgot-password": { access: "any", render: () => <ForgotPasswordPage /> },
  "/reset-password": { access: "any", render: () => <ResetPasswordPage /> },
  "/verify-email": { access: "any", render: () => <VerifyEmailPage /> },
  "/revert-email": { access: "any", render: () => <RevertEmailPage /> },
  "/profile": { access: "signed-in", render: () => <ProfilePage /> },
  "/edit-profile": { access: "signed-in", render: () => <EditProfilePage /> },
  "/sessions": { access: "signed-in", render: () => <SessionsPage /> },
  "/change-password": { access: "signed-in", render: () => <ChangePasswordPage /> },
  "/change-email": { access: "signed-in", render: () => <ChangeEmailPage /> },
  "/delete-account": { access: "signed-in", render: () => <DeleteAccountPage /> },
};

function Content() {
  const state = useAuthState();
  const tokens = useTokens();
  const { path, notice, visit } = useRoute();
  if (state === "unknown") {
    return (
      <p className="loading" aria-live="polite">
        Loading…
      </p>
    );
  }
  if (path === "/") return <Redirect to={state === "signed-in" ? "/profile" : "/sign-in"} />;
  const route = ROUTES[path];
  if (!route) return <NotFoundPage />;
  if (route.access === "signed-in" && state !== "signed-in") {
    return <Redirect to={`/sign-in?next=${encodeURIComponent(path)}`} notice={tokens.sessionEnded() ? SESSION_ENDED : notice} />;
  }
  if (route.access === "signed-out" && state === "signed-in") return <Redirect to="/profile" />;
  return <Fragment key={visit}>{route.render()}</Fragment>;
}

export function App() {
  return (
    <Layout>
      <Content />
    </Layout>
  );
}
