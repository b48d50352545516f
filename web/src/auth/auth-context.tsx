import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { useApolloClient } from "@apollo/client/react";
import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import { isUnauthenticated } from "../graphql/client";
import { LOGOUT } from "../graphql/documents";
import { navigate, useRoute } from "../router";
import { settings } from "../settings";
import type { AuthState, Tokens } from "./tokens";

const TokensContext = createContext<Tokens | null>(null);

export function TokensProvider({ tokens, children }: { tokens: Tokens; children: ReactNode }) {
  return <TokensContext.Provider value={tokens}>{children}</TokensContext.Provider>;
}

export function useTokens(): Tokens {
  const tokens = useContext(TokensContext);
  if (!tokens) throw new Error("useTokens needs a TokensProvider");
  return tokens;
}

export function useAuthState(): AuthState {
  const tokens = useTokens();
  return useSyncExternalStore(tokens.subscribe, tokens.state);
}

/**
 * Ends the session on the service, then here and in the other tabs, and drops cached account
 * data. When the service cannot be reached the session stays, here too, and the page says so:
 * it lives on at the service (and in cookie mode so does the cookie, which only the service can
 * clear), so "signed out" would be untrue, and on a shared computer the next visit would find
 * the account open.
 */
export function useSignOut() {
  const tokens = useTokens();
  const client = useApolloClient();
  const { path } = useRoute();
  /** `hasEnded`: the service already ended the session (logoutAll, a password reset). */
  return async (notice = "You are signed out.", options: { hasEnded?: boolean } = {}) => {
    if (!options.hasEnded) {
      try {
        // Without a variable the service takes the cookie's token.
        const variables = settings.refreshTokenCookie ? {} : { refreshToken: tokens.storedRefreshToken() };
        await client.mutate({ mutation: LOGOUT, variables });
      } catch (error) {
        // UNAUTHENTICATED: the session had already ended (elsewhere, say), so only this side is left
        // to end. Any other failure left the session running, there and here.
        const hasEnded = isUnauthenticated(error);
        if (!hasEnded) {
          const notice = CombinedGraphQLErrors.is(error)
            ? "Signing out did not work on our side, so you are still signed in. Please try again in a moment."
            : "We could not reach the service, so you are still signed in. Please try again.";
          navigate(path, { replace: true, notice });
          return;
        }
      }
    }
    // Signing out clears the Apollo cache too (graphql/client.ts).
    tokens.signOut();
    navigate("/sign-in", { notice });
  };
}
