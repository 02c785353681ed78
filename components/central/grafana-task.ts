import {
  DASHBOARDS,
  DASHBOARD_PROVIDER_YAML,
  dashboardJson,
  datasourceYaml,
} from "../../workloads/central/grafana/dashboards.js";

export interface GrafanaContainersArgs {
  readonly image: string;
  /** A small shell image that writes the provisioning files before Grafana starts. */
  readonly provisionerImage: string;
  readonly databaseHost: string;
  readonly databaseName: string;
  readonly databaseUser: string;
  /** Secrets Manager reference (`<arn>:password::`) of the database password. */
  readonly databasePasswordFrom: string;
  readonly adminPasswordFrom: string;
  readonly logConfiguration: (streamPrefix: string) => unknown;
}

/**
 * Grafana's task on Fargate: a provisioner container writes the data source and the dashboards
 * (the code in workloads/central/grafana/dashboards.ts, passed in its environment) into task
 * volumes and exits; Grafana starts once it succeeded and reads them read-only. Fargate has no
 * config maps: this keeps the dashboards in the repository and in the task definition, with no
 * custom image to build.
 */
export function grafanaContainers(args: GrafanaContainersArgs): unknown[] {
  const files: { env: string; path: string; content: string }[] = [
    {
      env: "DATASOURCE",
      path: "/provisioning/datasources/central.yaml",
      content: datasourceYaml(args.databaseHost, args.databaseName, args.databaseUser),
    },
    {
      env: "DASHBOARD_PROVIDER",
      path: "/provisioning/dashboards/test-tiers.yaml",
      content: DASHBOARD_PROVIDER_YAML,
    },
    ...DASHBOARDS.map((d, i) => ({
      env: `DASHBOARD_${i}`,
      path: `/dashboards/${d.uid}.json`,
      content: JSON.stringify(dashboardJson(d)),
    })),
  ];
  const script = [
    "set -eu",
    "mkdir -p /provisioning/datasources /provisioning/dashboards",
    ...files.map((f) => `printf '%s' "$${f.env}" > ${f.path}`),
  ].join("\n");
  return [
    {
      name: "provision",
      image: args.provisionerImage,
      essential: false,
      command: ["sh", "-c", script],
      user: "472:0",
      readonlyRootFilesystem: true,
      environment: files.map((f) => ({ name: f.env, value: f.content })),
      mountPoints: [
        { sourceVolume: "provisioning", containerPath: "/provisioning" },
        { sourceVolume: "dashboards", containerPath: "/dashboards" },
      ],
      logConfiguration: args.logConfiguration("grafana-provision"),
    },
    {
      name: "grafana",
      image: args.image,
      essential: true,
      dependsOn: [{ containerName: "provision", condition: "SUCCESS" }],
      portMappings: [{ containerPort: 3000, protocol: "tcp" }],
      user: "472:0",
      readonlyRootFilesystem: true,
      environment: [
        { name: "GF_PATHS_PROVISIONING", value: "/etc/grafana/provisioning" },
        { name: "GF_AUTH_ANONYMOUS_ENABLED", value: "false" },
        { name: "GF_USERS_ALLOW_SIGN_UP", value: "false" },
        { name: "GF_ANALYTICS_REPORTING_ENABLED", value: "false" },
      ],
      secrets: [
        { name: "TIERS_DB_PASSWORD", valueFrom: args.databasePasswordFrom },
        { name: "GF_SECURITY_ADMIN_PASSWORD", valueFrom: args.adminPasswordFrom },
      ],
      mountPoints: [
        { sourceVolume: "provisioning", containerPath: "/etc/grafana/provisioning", readOnly: true },
        { sourceVolume: "dashboards", containerPath: "/var/lib/grafana/dashboards", readOnly: true },
        { sourceVolume: "grafana-data", containerPath: "/var/lib/grafana" },
      ],
      healthCheck: {
        command: ["CMD-SHELL", "wget -q -O- http://127.0.0.1:3000/api/health || exit 1"],
        interval: 30,
        timeout: 5,
        retries: 3,
      },
      logConfiguration: args.logConfiguration("grafana"),
    },
  ];
}
