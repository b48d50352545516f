import { useEffect, useRef, useState } from "react";
import { settings, type CaptchaProvider } from "../settings";
import type { SubmitState } from "./form";

/** What Turnstile, hCaptcha and reCAPTCHA v2 have in common when rendered explicitly. */
interface WidgetApi {
  render(
    container: HTMLElement,
    options: { sitekey: string; callback(token: string): void; "expired-callback"(): void; "error-callback"(): void },
  ): string | number;
  reset(widgetId?: string | number): void;
}

/** The global each provider's script defines; index.html loads the script (src/http/account-ui.ts). */
const GLOBALS: Record<CaptchaProvider, string> = { turnstile: "turnstile", hcaptcha: "hcaptcha", recaptcha: "grecaptcha" };
const POLL_MS = 50;

/** Resolves once the provider's script (loaded async) has defined its render function. */
function widgetApi(provider: CaptchaProvider, isCancelled: () => boolean): Promise<WidgetApi | null> {
  return new Promise((resolve) => {
    const check = () => {
      if (isCancelled()) return resolve(null);
      const api = (window as unknown as Record<string, Partial<WidgetApi> | undefined>)[GLOBALS[provider]];
      if (typeof api?.render === "function" && typeof api.reset === "function") resolve(api as WidgetApi);
      else window.setTimeout(check, POLL_MS);
    };
    check();
  });
}

/**
 * The captcha of a form that needs one (sign-in, sign-up, reset request), when the service
 * asks for one: the provider's widget, and a hidden `captchaToken` input the form submits
 * like any other. A token is good for one check, so the widget starts over after every
 * submission. Without CAPTCHA_PROVIDER it renders nothing.
 */
export function CaptchaField({ form }: { form: SubmitState }) {
  const container = useRef<HTMLDivElement>(null);
  const widget = useRef<{ api: WidgetApi; id: string | number } | null>(null);
  const [token, setToken] = useState("");
  const wasBusy = useRef(false);

  useEffect(() => {
    const captcha = settings.captcha;
    if (!captcha) return;
    let cancelled = false;
    void widgetApi(captcha.provider, () => cancelled).then((api) => {
      if (cancelled || !api || !container.current) return;
      const id = api.render(container.current, {
        sitekey: captcha.siteKey,
        callback: setToken,
        "expired-callback": () => setToken(""),
        "error-callback": () => setToken(""),
      });
      widget.current = { api, id };
    });
    return () => {
      cancelled = true;
      widget.current = null;
      // React may mount twice in development: the next mount renders into an empty container.
      container.current?.replaceChildren();
    };
  }, []);

  useEffect(() => {
    if (wasBusy.current && !form.isBusy && widget.current) {
      widget.current.api.reset(widget.current.id);
      setToken("");
    }
    wasBusy.current = form.isBusy;
  }, [form.isBusy]);

  if (!settings.captcha) return null;
  const error = form.errorFor("captchaToken");
  return (
    <div className="field captcha">
      <div ref={container} />
      <input type="hidden" name="captchaToken" value={token} />
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
