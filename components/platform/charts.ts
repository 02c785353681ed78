/** Helm charts the platform and environments install, each pinned to one version. */
export const CHARTS = {
  /** Argo Workflows v4.0.6. */
  argoWorkflows: {
    chart: "argo-workflows",
    version: "1.0.18",
    repo: "https://argoproj.github.io/argo-helm",
  },
  /** metrics-server v0.7.2: the resource metrics the HorizontalPodAutoscalers read. */
  metricsServer: {
    chart: "metrics-server",
    version: "3.12.2",
    repo: "https://kubernetes-sigs.github.io/metrics-server/",
  },
  /** cluster-autoscaler v1.32.0 (AWS auto-discovery of the node groups). */
  clusterAutoscaler: {
    chart: "cluster-autoscaler",
    version: "9.46.6",
    repo: "https://kubernetes.github.io/autoscaler",
  },
} as const;
