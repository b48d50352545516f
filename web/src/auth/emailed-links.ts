import type { TypedDocumentNode } from "@apollo/client";
import { useApolloClient } from "@apollo/client/react";
import { useEffect, useState } from "react";
import { useSubmit, valueOf, type SubmitState } from "../components/form";
import type { Wording } from "../errors";
import { useRoute } from "../router";
import { useAuthState, useTokens } from "./auth-context";

/**
 * After a link spent in this browser changed an account: a refresh, when signed in, brings this
 * side up to date. A change that ended every session of the account ends this one too if it was
 * the same account, and leaves another signed in; one that changed a claim gets it. A failed
 * refresh only leaves this side as it was until the next one.
 */
export function useRefreshIfSignedIn(): () => Promise<void> {
  const tokens = useTokens();
  const state = useAuthState();
  return async () => {
    if (state === "signed-in") await tokens.refresh().catch(() => {});
  };
}

/**
 * The form of a page that spends an emailed link with a new password (a reset, an address taken
 * back), which ends every session of the account. Its token is read once and then taken out of
 * the address bar and the tab's history: Back on a shared computer must not bring the form back
 * with a live token (a reload then asks for the emailed link again). The verification page keeps
 * its token until spent: one confirms an address, nothing more. The token is spent only by the
 * form's button, never by opening the page: mail scanners open links.
 */
export function useNewPasswordLink(
  mutation: TypedDocumentNode<unknown, { token: string; newPassword: string }>,
  wording: Wording,
): { token: string | null; isDone: boolean; form: SubmitState } {
  const client = useApolloClient();
  const { query } = useRoute();
  const [token] = useState(() => query.get("token"));
  useEffect(() => {
    if (token) history.replaceState(null, "", location.pathname);
  }, [token]);
  const refreshIfSignedIn = useRefreshIfSignedIn();
  const [isDone, setDone] = useState(false);
  const form = useSubmit(async (element) => {
    if (!token) return;
    await client.mutate({ mutation, variables: { token, newPassword: valueOf(element, "newPassword") } });
    await refreshIfSignedIn();
    setDone(true);
  }, wording);
  return { token, isDone, form };
}
