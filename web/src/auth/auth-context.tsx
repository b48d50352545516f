import { useApolloClient } from "@apollo/client/react";
import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import { LOGOUT } from "../graphql/documents";
import { navigate } from "../router";
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

/** Ends the session on the service, then here and in the other tabs, and drops cached account data. */
export function useSignOut() {
  const tokens = useTokens();
  const client = useApolloClient();
  /** `hasEnded`: the service already ended the session (logoutAll, a password reset). */
  return async (notice = "You are signed out.", options: { hasEnded?: boolean } = {}) => {
    try {
      // Without a variable the service takes the cookie's token.
      const variables = settings.refreshTokenCookie ? {} : { refreshToken: tokens.storedRefreshToken() };
      if (!options.hasEnded) await client.mutate({ mutation: LOGOUT, variables });
    } finally {
      tokens.signOut();
      await client.clearStore();
      navigate("/sign-in", { notice });
    }
  };
}
