import Foundation
import Hummingbird
import Logging
import RampartAuthn
import NIOConcurrencyHelpers
import RampartCore
import RampartStorage
import ServiceLifecycle

/// Builds the whole server: store, keys, routes and the services that run beside it.
public func buildApplication(_ configuration: AppConfiguration, logger: Logger,
                             passwords: PasswordHasher = PasswordHasher()) async throws -> some ApplicationProtocol {
    let database = try await Database.open(configuration.database, logger: logger)
    let keys = try await KeyService.open(source: .resolve(dataDirectory: configuration.dataDirectory), database: database)
    let services = RampartServices(configuration: configuration, database: database, keys: keys, logger: logger,
                                   passwords: passwords)
    // The demo banner is printed once the port is bound: a server that cannot listen must
    // not first announce that it is ready.
    let banner = NIOLockedValueBox<String?>(nil)
    let connections = ConnectionCounter(limits: configuration.connectionLimits)
    let storePrepared = StorePrepared()
    let background: [@Sendable () -> any Service] = [
        { LogStreamSender(services: services) }, { BackchannelLogoutSender(services: services) },
        { AuditExportRunner(services: services) },
        { AuditCheckpointer(services: services, settings: configuration.auditCheckpoints) },
    ] + (configuration.mail.map { mail in [{ MailDeliverer(services: services, settings: mail) }] } ?? [])
    var app = Application(
        responder: buildResponder(services),
        server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(counter: connections, logger: logger)])),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "rampart"),
        services: [database] + metricsServer(services)
            + background.map { StartsAfterStorePrepared(prepared: storePrepared, make: $0) },
        onServerRunning: { _ in
            if let text = banner.withLockedValue({ $0 }) { FileHandle.standardOutput.write(Data(text.utf8)) }
        },
        logger: logger)
    app.beforeServerStarts {
        // The first person to choose a password should not wait while 377,000 entries load.
        Task.detached(priority: .utility) { _ = PasswordBlocklist.shipped.count }
        try await prepareStore(services)
        storePrepared.open()
        do {
            try PublicURLRecord.save(configuration.publicURL, dataDirectory: configuration.dataDirectory)
        } catch {
            logger.warning("cannot record the public URL for `rampart org create`",
                           metadata: ["path": .string(PublicURLRecord.path(dataDirectory: configuration.dataDirectory))])
        }
        if configuration.demo {
            let credentials = try await DemoSeeder(services: services).seed()
            banner.withLockedValue { $0 = credentials.banner(publicURL: configuration.publicURL) }
        }
    }
    return app
}

/// With `--metrics-address`, a listener of its own that serves `/metrics` and nothing else.
func metricsServer(_ services: RampartServices) -> [any Service] {
    guard let address = services.configuration.metricsAddress else { return [] }
    let router = Router()
    HealthController(services: services).addMetricsRoute(to: router)
    return [Application(router: router,
                        configuration: .init(address: .hostname(address.host, port: address.port), serverName: "rampart"),
                        logger: services.logger)]
}

/// SQLite is embedded: the server migrates it itself. PostgreSQL is migrated by its owner
/// (`rampart migrate`); a server that finds it behind says so and stays unready.
func prepareStore(_ services: RampartServices) async throws {
    let migrator = Migrator(database: services.database)
    switch services.database.flavor {
    case .sqlite:
        let applied = try await migrator.migrate()
        if !applied.isEmpty { services.logger.info("migrated", metadata: ["versions": .stringConvertible(applied)]) }
        try await services.keys.checkMatches(services.database)
    case .postgres:
        do {
            // Bounded, so that a database that does not answer leaves a listening server whose
            // /readyz says so, rather than a silent process with no port.
            try await withTimeLimit(startupDatabaseLimit) {
                if try await migrator.currentVersion() != Migrator.latestVersion {
                    services.logger.error("the database is not migrated; run `rampart migrate --database <owner url>`")
                }
                try await services.keys.checkMatches(services.database)
            }
        } catch let error as RampartError where error.code == .configuration {
            throw error
        } catch {
            services.logger.warning("the database does not answer yet; /readyz stays 503 until it does", metadata: [
                "error": .string(error is TimeLimitExceeded ? "\(error)" : String(describing: type(of: error))),
                "connections_in_use": .stringConvertible(services.database.connectionsInUse),
                "connections_max": .stringConvertible(services.database.connectionCapacity),
            ])
        }
    }
}

/// How long start-up waits for PostgreSQL before it listens anyway.
let startupDatabaseLimit: Duration = .seconds(15)

/// The admin API's routes (`APIRouter`) in front of Hummingbird's router, which serves
/// health, metrics and the console. Both run the same middlewares, outermost first.
func buildResponder(_ services: RampartServices) -> some HTTPResponder<RampartRequestContext> {
    let routes = apiControllers(services).flatMap(\.routes)
    let catalog = RouteCatalog(routes)
    var shared: [any MiddlewareProtocol<Request, Response, RampartRequestContext>] = [RequestIDMiddleware()]
    if services.configuration.accessLog { shared.append(AccessLogMiddleware()) }
    shared += [
        RequestMetricsMiddleware<RampartRequestContext>(),
        ErrorMiddleware(catalog: catalog, console: ConsoleErrorRenderer()),
    ]
    _ = RampartMetrics.registry

    let router = Router(context: RampartRequestContext.self)
    for middleware in shared { router.add(middleware: middleware) }
    router.add(middleware: CrossSiteRequestGuard(publicURL: services.configuration.publicURL))
    HealthController(services: services).addRoutes(to: router)
    ConsoleController(services: services).addRoutes(to: router)
    let scimRate = services.configuration.scimRequestsPerSecond
    // The burst is at least one request: below 0.5 requests per second, twice the rate would refuse all.
    let scimLimit = TokenBucketLimiter.Limit(requestsPerSecond: scimRate, burst: max(1, 2 * scimRate))
    SCIMController(services: services, limiter: TokenBucketLimiter(scimLimit)).addRoutes(to: router)
    AuthorizeController(services: services).addRoutes(to: router)
    TokenController(services: services, keyring: services.oidcKeyring).addRoutes(to: router)
    DiscoveryController(services: services, keyring: services.oidcKeyring).addRoutes(to: router)
    LogoutController(services: services, keyring: services.oidcKeyring).addRoutes(to: router)
    SSOController(services: services).addRoutes(to: router)
    return HeadResponder(inner: APIRouter(routes, middlewares: [NoStoreMiddleware()] + shared,
                                         authenticator: APITokenAuthenticator(), fallback: router.buildResponder()))
}

func apiControllers(_ services: RampartServices) -> [any APIController] {
    [
        OrganizationController(services: services),
        UsersController(services: services),
        RolesController(services: services),
        GroupsController(services: services),
        ProductsController(services: services),
        APITokensController(services: services),
        SCIMTokensController(services: services),
        IngestionKeysController(services: services),
        EventsController(services: services),
        AuditEventsController(services: services),
        AuditRetentionController(services: services),
        AuditFiltersController(services: services),
        AuditExportsController(services: services),
        LogStreamsController(services: services),
        DomainsController(services: services),
        IdentityProvidersController(services: services),
        OAuthClientsController(services: services),
        OAuthGrantsController(services: services),
        PolicySimulationController(services: services),
        AuthenticationPoliciesController(services: services),
        UserAuthenticationController(services: services),
    ]
}

/// Every admin API operation as (method, path), for the OpenAPI consistency test.
public func apiOperations(_ services: RampartServices) -> [(method: String, path: String)] {
     apiControllers(services).flatMap(\.routes).map { ($0.method.rawValue, $0.path) }
}
