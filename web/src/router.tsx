import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from "react";
import { settings } from "./settings";

export interface Route {
  /** Below the base path: "/sign-in", "/reset-password". */
  path: string;
  query: URLSearchParams;
  /** Counts navigations: each one mounts its page afresh (focus, title, form state). */
  visit: number;
  /** What the navigation that led here wants said, e.g. "You are signed out". Only for that visit. */
  notice?: string;
}

const NAVIGATED = "account:navigated";
const base = settings.basePath;

let visit = 0;
let visitedUrl = `${location.pathname}${location.search}`;
// Kept in memory, not in history.state: a reload or a step back does not repeat a notice.
const notices = new Map<number, string>();
let cached: Route | undefined;

// Back and forward are visits too; a change of #fragment (the skip link) is not.
window.addEventListener("popstate", () => {
  const url = `${location.pathname}${location.search}`;
  if (url !== visitedUrl) visit++;
  visitedUrl = url;
});

function readRoute(): Route {
  if (cached?.visit !== visit || `${location.pathname}${location.search}` !== visitedUrl) {
    visitedUrl = `${location.pathname}${location.search}`;
    const path = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : "/";
    cached = { path: path.replace(/\/+$/, "") || "/", query: new URLSearchParams(location.search), visit, notice: notices.get(visit) };
  }
  return cached;
}

function subscribe(listener: () => void) {
  window.addEventListener("popstate", listener);
  window.addEventListener(NAVIGATED, listener);
  return () => {
    window.removeEventListener("popstate", listener);
    window.removeEventListener(NAVIGATED, listener);
  };
}

export function useRoute(): Route {
  return useSyncExternalStore(subscribe, readRoute);
}

export function navigate(to: string, options: { replace?: boolean; notice?: string } = {}) {
  visit++;
  if (options.notice) notices.set(visit, options.notice);
  const url = `${base}${to}`;
  if (options.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  window.dispatchEvent(new Event(NAVIGATED));
}

/** An <a> that changes page without a reload; modified clicks (new tab, …) stay the browser's. */
export function Link({ to, onClick, ...props }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={`${base}${to}`} onClick={handle} {...props} />;
}
