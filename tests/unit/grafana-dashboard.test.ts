import { readFileSync } from "node:fs";
import path from "node:path";
import { createMetrics } from "../../src/http/metrics";

// The dashboard in ops/ is only useful while it queries metrics the service really serves.

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string }[];
  gridPos: { x: number; y: number; w: number; h: number };
}

const dashboard = JSON.parse(readFileSync(path.resolve(__dirname, "../../ops/grafana-dashboard.json"), "utf8")) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string }[] };
};
const graphs = dashboard.panels.filter((panel) => panel.type !== "row");
const HISTOGRAM_SERIES = /_(bucket|sum|count)$/;

test("every metric the dashboard queries is one the service serves", async () => {
  const metrics = createMetrics();
  const served = new Set((await metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
  const queried = graphs.flatMap((panel) => (panel.targets ?? []).flatMap((target) => target.expr.match(/\b(?:auth|process|nodejs)_\w+/g) ?? []));
  expect(queried.length).toBeGreaterThan(10);
  for (const name of new Set(queried)) {
    const metric = served.has(name) ? name : name.replace(HISTOGRAM_SERIES, "");
    expect({ name, served: served.has(metric) }).toEqual({ name, served: true });
  }
  for (const name of ["auth_graphql_requests_total", "auth_logins_total", "auth_rate_limit_hits_total", "auth_refresh_token_reuse_total", "auth_token_store_errors_total", "auth_database_errors_total", "auth_database_connections_lost_total"]) {
    expect(queried).toContain(name);
  }
});

test("every panel has a query on the chosen data source, filtered by job and instance", () => {
  expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(expect.arrayContaining(["datasource", "job", "instance"]));
  for (const panel of graphs) {
    expect(panel.datasource?.uid).toBe("${datasource}");
    expect(panel.targets?.length).toBeGreaterThan(0);
    for (const { expr } of panel.targets ?? []) expect(expr).toContain('job=~"$job", instance=~"$instance"');
  }
  expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
});
