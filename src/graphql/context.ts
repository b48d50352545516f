import type { Viewer } from "../auth/accounts";
import type { ClientInfo } from "../auth/sessions";
import { unauthenticated } from "../errors";
import type { Services } from "../services";
import { createLoaders, type Loaders } from "./loaders";
import type { OperationSummary } from "./plugins/operation-metrics";
import { noRefreshCookie, type RefreshCookie } from "./refresh-cookie";

export interface Context {
  services: Services;
  client: ClientInfo;
  loaders: Loaders;
  /** The caller, or null without a bearer token. A bad token rejects with UNAUTHENTICATED. */
  viewer(): Promise<Viewer | null>;
  /** The caller; UNAUTHENTICATED without a valid token. */
  requireViewer(): Promise<Viewer>;
  /**
   * Accounts this request proved it owns without a bearer token (a password, a refresh
   * token, an emailed token): their private fields may be shown in the response.
   */
  provenOwnerOf: Set<string>;
  /** The refresh-token cookie of this request (REFRESH_TOKEN_COOKIE); inert when the setting is off. */
  refreshCookie: RefreshCookie;
  /** Hands what the operation did to the HTTP request log (graphql/plugins/operation-metrics.ts). */
  reportOperation(summary: OperationSummary): void;
}

export interface RequestInfo {
  authorization: string | undefined;
  client: ClientInfo;
  refreshCookie?: RefreshCookie;
  reportOperation?: (summary: OperationSummary) => void;
}

function bearerToken(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const [scheme, token, extra] = authorization.trim().split(/\s+/);
  if (scheme?.toLowerCase() !== "bearer" || !token || extra) throw unauthenticated("Malformed Authorization header");
  return token;
}

export function createContext(services: Services, request: RequestInfo): Context {
  const loaders = createLoaders(services.users);
  let viewer: Promise<Viewer | null> | undefined;
  const getViewer = () => {
    // Decoded once per request, and only when a resolver asks.
    viewer ??= Promise.resolve().then(async () => {
      const token = bearerToken(request.authorization);
      if (!token) return null;
      const found = await services.accounts.authenticate(token);
      // The caller's row was just read: a resolver loading the caller gets it without a query.
      loaders.userById.prime(found.user.id, found.user);
      return found;
    });
    return viewer;
  };
  return {
    services,
    client: request.client,
    loaders,
    provenOwnerOf: new Set(),
    refreshCookie: request.refreshCookie ?? noRefreshCookie,
    reportOperation: request.reportOperation ?? (() => {}),
    viewer: getViewer,
    async requireViewer() {
      const found = await getViewer();
      if (!found) throw unauthenticated();
      return found;
    },
  };
}
