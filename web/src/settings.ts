/** What the service told the page in index.html (src/http/account-ui.ts); defaults for `vite` dev. */
function meta(name: string): string | undefined {
  return document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content;
}

export type CaptchaProvider = "turnstile" | "hcaptcha" | "recaptcha";

function captchaSettings(provider: string | undefined, siteKey: string | undefined): { provider: CaptchaProvider; siteKey: string } | null {
  if (provider !== "turnstile" && provider !== "hcaptcha" && provider !== "recaptcha") return null;
  return { provider, siteKey: siteKey ?? "" };
}

export const settings = Object.freeze({
  graphqlUrl: "/graphql",
  /** The service sets the refresh token in an HttpOnly cookie (REFRESH_TOKEN_COOKIE): scripts never see it. */
  refreshTokenCookie: meta("refresh-token-cookie") === "true",
  passwordMinLength: Number(meta("password-min-length") ?? 8),
  /** CAPTCHA_PROVIDER and CAPTCHA_SITE_KEY: sign-in, sign-up and reset requests show its widget. */
  captcha: captchaSettings(meta("captcha-provider"), meta("captcha-site-key")),
  /** "/account", where the service mounts the pages. */
  basePath: import.meta.env.BASE_URL.replace(/\/$/, ""),
});
