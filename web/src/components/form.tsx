import { useEffect, useRef, useState, type FormEvent, type InputHTMLAttributes, type ReactNode, type RefObject } from "react";
import { describeError, type Problem, type Wording } from "../errors";
import { settings } from "../settings";

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, "name" | "id">;

interface FieldProps extends InputProps {
  name: string;
  label: string;
  hint?: string;
  error?: string;
  /** Beside the input, e.g. a show-password button. */
  after?: ReactNode;
}

/**
 * Whether an error that has just appeared should be an alert: only when its input already had
 * the focus (a submit with Enter), since moving the focus there announces nothing. Otherwise the
 * form moves the focus to the input, which reads the error out with it (aria-describedby); an
 * alert as well would say it twice. Decided once per error, as it appears.
 */
function useAlertOnAppearance(error: string | undefined, input: RefObject<HTMLInputElement | null>): boolean {
  const seen = useRef<{ error: string | undefined; alert: boolean }>({ error: undefined, alert: false });
  if (seen.current.error !== error) {
    seen.current = { error, alert: Boolean(error) && typeof document !== "undefined" && document.activeElement === input.current };
  }
  return seen.current.alert;
}

/** A labelled input whose hint and error are read out with it (aria-describedby). */
export function Field({ name, label, hint, error, after, ...input }: FieldProps) {
  const id = `field-${name}`;
  const inputRef = useRef<HTMLInputElement>(null);
  const isAlert = useAlertOnAppearance(error, inputRef);
  const describedBy = [hint && `${id}-hint`, error && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      )}
      <div className="input-row">
        <input ref={inputRef} id={id} name={name} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...input} />
        {after}
      </div>
      {error && (
        <p id={`${id}-error`} className="field-error" role={isAlert ? "alert" : undefined}>
          {error}
        </p>
      )}
    </div>
  );
}

/** A password input that can be shown, which helps on a phone keyboard (NIST SP 800-63B asks for it). */
/** Under a new password: the service's minimum, and how to meet the policy without a rule to game. */
export const passwordHint = `At least ${settings.passwordMinLength} characters. A few unrelated words make a strong password that is easy to remember.`;

export function PasswordField(props: Omit<FieldProps, "type" | "after">) {
  const [isShown, setShown] = useState(false);
  const toggle = (
    <button type="button" className="secondary show-password" aria-pressed={isShown} aria-controls={`field-${props.name}`} onClick={() => setShown(!isShown)}>
      {isShown ? "Hide" : "Show"}
      <span className="visually-hidden"> password</span>
    </button>
  );
  return <Field {...props} type={isShown ? "text" : "password"} after={toggle} autoCapitalize="off" spellCheck={false} />;
}

export function Alert({ problem, children }: { problem: Problem | null; children?: ReactNode }) {
  if (!problem) return null;
  return (
    <div className="alert" role="alert">
      <p>{problem.message}</p>
      {children}
    </div>
  );
}

/** `isDanger`: the form does what cannot be undone (its button is red). */
export function SubmitButton({ form, label, busyLabel, isDanger = false }: { form: SubmitState; label: string; busyLabel: string; isDanger?: boolean }) {
  const waiting = form.secondsToWait > 0;
  const className = [isDanger && "danger", (form.isBusy || waiting) && "is-disabled"].filter(Boolean).join(" ") || undefined;
  return (
    <button type="submit" aria-disabled={form.isBusy || waiting} className={className}>
      {waiting ? `Try again in ${form.secondsToWait} s` : form.isBusy ? busyLabel : label}
    </button>
  );
}

export interface SubmitState {
  onSubmit(event: FormEvent<HTMLFormElement>): void;
  isBusy: boolean;
  /** A problem with no input of this form to attach it to: shown in the form's alert. */
  problem: Problem | null;
  /** The message for one input, when the service named it. */
  errorFor(field: string): string | undefined;
  /** The contract's code of the last failure (EMAIL_TAKEN, INVALID_TOKEN, …). */
  code: string | undefined;
  /** Counts down a RATE_LIMITED wait; the button refuses until then. */
  secondsToWait: number;
}

/**
 * Submits a form once at a time and turns a failure into a Problem: on the input the service
 * named (which then takes the focus), else in the form's alert, which is announced.
 */
export function useSubmit(action: (form: HTMLFormElement) => Promise<unknown>, wording: Wording = {}): SubmitState {
  const [isBusy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [waitUntil, setWaitUntil] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const formRef = useRef<HTMLFormElement | null>(null);
  // isBusy is the state of the last render: two submits in one task would both read false.
  const inFlight = useRef(false);

  useEffect(() => {
    if (waitUntil <= Date.now()) return;
    const tick = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(tick);
  }, [waitUntil]);

  useEffect(() => {
    if (!problem?.field) return;
    formRef.current?.querySelector<HTMLInputElement>(`[name="${problem.field}"]`)?.focus();
  }, [problem]);

  const secondsToWait = Math.max(0, Math.ceil((waitUntil - now) / 1000));
  const hasInput = (field: string | undefined) => !!field && !!formRef.current?.querySelector(`[name="${field}"]`);

  return {
    isBusy,
    secondsToWait,
    problem: problem && !hasInput(problem.field) ? problem : null,
    errorFor: (field) => (problem?.field === field ? problem.message : undefined),
    code: problem?.code,
    onSubmit(event) {
      event.preventDefault();
      if (inFlight.current || secondsToWait > 0) return;
      const form = event.currentTarget;
      formRef.current = form;
      inFlight.current = true;
      setBusy(true);
      setProblem(null);
      action(form)
        .catch((error: unknown) => {
          const found = describeError(error, wording);
          setProblem(found);
          if (found.retryAfter) {
            setNow(Date.now());
            setWaitUntil(Date.now() + found.retryAfter * 1000);
          }
        })
        .finally(() => {
          inFlight.current = false;
          setBusy(false);
        });
    },
  };
}

/** The captcha's token, when the form has a solved one (components/captcha.tsx). */
export function captchaTokenOf(form: HTMLFormElement): { captchaToken?: string } {
  const captchaToken = valueOf(form, "captchaToken");
  return captchaToken ? { captchaToken } : {};
}

/** The value of one named input of a submitted form. */
export function valueOf(form: HTMLFormElement, name: string): string {
  const value = new FormData(form).get(name);
  return typeof value === "string" ? value : "";
}
