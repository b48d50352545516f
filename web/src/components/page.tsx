import { useEffect, useRef, type ReactNode } from "react";
import { navigate, useRoute } from "../router";

/**
 * One page: its <h1> takes the focus when the page appears, so keyboard and screen-reader
 * users start at the top of the new content, and the document title follows.
 */
export function Page({ title, children }: { title: string; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const { notice } = useRoute();
  useEffect(() => {
    document.title = `${title} · Account`;
    heading.current?.focus();
  }, [title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1} ref={heading}>
        {title}
      </h1>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {children}
    </section>
  );
}

export function Redirect({ to, notice }: { to: string; notice?: string }) {
  useEffect(() => navigate(to, { replace: true, notice }), [to, notice]);
  return null;
}
