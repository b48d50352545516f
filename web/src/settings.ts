/** What the service told the page in index.html (src/http/account-ui.ts); defaults for `vite` dev. */
function meta(name: string): string | undefined {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content;
}

export const settings = Object.freeze({
  graphqlUrl: "/graphql",
  /** The service sets the refresh token in an HttpOnly cookie (REFRESH_TOKEN_COOKIE): scripts never see it. */
  refreshTokenCookie: meta("refresh-token-cookie") === "true",
  passwordMinLength: Number(meta("password-min-length") ?? 8),
  /** "/account", where the service mounts the pages. */
  basePath: import.meta.env.BASE_URL.replace(/\/$/, ""),
});
