import { useApolloClient, useQuery } from "@apollo/client/react";
import { Alert, Field, SubmitButton, useSubmit, valueOf } from "../components/form";
import { Page } from "../components/page";
import { describeError } from "../errors";
import { ME, UPDATE_PROFILE } from "../graphql/documents";
import { navigate } from "../router";

export function EditProfilePage() {
  const client = useApolloClient();
  const { data, error, loading } = useQuery(ME, { fetchPolicy: "cache-first" });
  const form = useSubmit(async (element) => {
    // Apollo's cache keeps the answer under User:id, so the profile shows the new name at once.
    await client.mutate({ mutation: UPDATE_PROFILE, variables: { input: { name: valueOf(element, "name").trim() || null } } });
    navigate("/profile", { notice: "Your profile is saved." });
  });
  const me = data?.me;

  return (
    <Page title="Edit your profile">
      {!me && loading && <p aria-live="polite">Loading your profile…</p>}
      {!me && error && <Alert problem={describeError(error)} />}
      {me && (
        <form onSubmit={form.onSubmit} noValidate>
          <Alert problem={form.problem} />
          <Field name="name" label="Name" hint="Leave it empty to show none." autoComplete="name" maxLength={100} defaultValue={me.name ?? ""} error={form.errorFor("name")} />
          <SubmitButton form={form} label="Save" busyLabel="Saving…" />
        </form>
      )}
    </Page>
  );
}
