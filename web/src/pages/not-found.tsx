import { Page } from "../components/page";
import { Link } from "../router";

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p>There is no page at this address.</p>
      <p>
        <Link to="/">Go to your account</Link>
      </p>
    </Page>
  );
}
