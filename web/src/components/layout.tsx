import type { ReactNode } from "react";
import { useAuthState, useSignOut } from "../auth/auth-context";
import { Link, useRoute } from "../router";

function NavLink({ to, children }: { to: string; children: ReactNode }) {
  const { path } = useRoute();
  return (
    <Link to={to} aria-current={path === to ? "page" : undefined}>
      {children}
    </Link>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const state = useAuthState();
  const signOut = useSignOut();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link to="/" className="brand">
          Account
        </Link>
        <nav aria-label="Account">
          {state === "signed-in" ? (
            <ul>
              <li>
                <NavLink to="/profile">Profile</NavLink>
              </li>
              <li>
                <NavLink to="/sessions">Sessions</NavLink>
              </li>
              <li>
                <NavLink to="/change-password">Password</NavLink>
              </li>
              <li>
                <button type="button" className="link-button" onClick={() => void signOut()}>
                  Sign out
                </button>
              </li>
            </ul>
          ) : state === "signed-out" ? (
            <ul>
              <li>
                <NavLink to="/sign-in">Sign in</NavLink>
              </li>
              <li>
                <NavLink to="/sign-up">Create account</NavLink>
              </li>
            </ul>
          ) : null}
        </nav>
      </header>
      <main id="main">{children}</main>
    </>
  );
}
