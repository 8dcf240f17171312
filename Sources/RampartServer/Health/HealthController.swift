import HTTPTypes
import Hummingbird
import Metrics
import Prometheus
import RampartCore
import RampartStorage

/// `/healthz` (the process answers), `/readyz` (the store answers and is migrated), `/metrics`.
struct HealthController: Sendable {
    let services: RampartServices

    func addRoutes(to router: Router<RampartRequestContext>) {
        router.get("/healthz") { _, _ in try JSON.response(["status": "ok"]) }
        router.get("/readyz") { _, context in
            do {
                try await services.database.ping()
                guard try await Migrator(database: services.database).currentVersion() == Migrator.latestVersion else {
                    return try JSON.response(["status": "unavailable", "reason": "the database is not migrated; run `rampart migrate`"],
                                             status: .serviceUnavailable)
                }
                return try JSON.response(["status": "ready"])
            } catch {
                context.logger.warning("not ready", metadata: ["reason": .string(String(describing: type(of: error)))])
                return try JSON.response(["status": "unavailable", "reason": "the database does not answer"],
                                         status: .serviceUnavailable)
            }
        }
        // With --metrics-address the numbers are served only there, away from the public port.
        if services.configuration.metricsAddress == nil { addMetricsRoute(to: router) }
    }

    /// `/metrics` in Prometheus's text format.
    func addMetricsRoute<Context: RequestContext>(to router: Router<Context>) {
        let services = self.services
        router.get("/metrics") { _, _ in
            let registry = RampartMetrics.registry
            registry.makeGauge(descriptor: .rampart("rampart_db_connections_in_use", "Database connections leased right now."))
                .set(Double(services.database.connectionsInUse))
            registry.makeGauge(descriptor: .rampart("rampart_db_connections_max", "Database connections the pool may open."))
                .set(Double(services.database.connectionCapacity))
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
        }
    }
}

/// One Prometheus registry per process: swift-metrics can be bootstrapped only once.
enum RampartMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()
}

private extension MetricNameDescriptor {
    /// A metric named in full, without Prometheus's unit suffix, with its `# HELP` text.
    static func rampart(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
