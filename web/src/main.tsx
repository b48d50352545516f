import { ApolloProvider } from "@apollo/client/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import { TokensProvider } from "./auth/auth-context";
import { createTokens } from "./auth/tokens";
import { createClient } from "./graphql/client";
import { settings } from "./settings";
import "./styles.css";

const tokens = createTokens({ graphqlUrl: settings.graphqlUrl, useCookie: settings.refreshTokenCookie });
const client = createClient(tokens, settings.graphqlUrl);
void tokens.start();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <TokensProvider tokens={tokens}>
      <ApolloProvider client={client}>
        <App />
      </ApolloProvider>
    </TokensProvider>
  </StrictMode>,
);
