import ArgumentParser
import RampartCore
import RampartServer
import RampartStorage

struct IngestionKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingestion-key", abstract: "List, create and revoke the keys products send their events with.",
        subcommands: [List.self, Create.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List ingestion keys (never their secrets).")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Only this product's keys (id or name).") var product: String?

        func run() async throws {
            try await runReportingErrors {
                let product = self.product
                let (keys, names) = try await tenant.read { tenant in
                    var productID: String?
                    if let product { productID = try await tenant.findProduct(product).id }
                    let keys = try await tenant.ingestionKeys(product: productID)
                    let names = Dictionary(try await tenant.all { try await tenant.products(page: $0) }.map { ($0.id, $0.name) },
                                           uniquingKeysWith: { first, _ in first })
                    return (keys, names)
                }
                try tenant.output(["data": keys]) {
                    table(keys.map { key in
                        [key.id, key.revokedAt != nil ? "revoked" : "active", names[key.productID] ?? key.productID,
                         key.lastUsedAt.map { "used \($0.rfc3339)" } ?? "never used", key.name]
                    }, empty: "No ingestion keys.")
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an ingestion key for a product; its secret is printed once.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "The product whose events it sends (id or name).") var product: String
        @Option(help: "What the key is for.") var name: String

        func run() async throws {
            try await runReportingErrors {
                let (product, name) = (self.product, self.name)
                let (key, secret) = try await tenant.write { tenant in
                    try await tenant.createIngestionKey(product: try await tenant.findProduct(product).id, name: name, by: .system)
                }
                try tenant.output(CreatedIngestionKey(ingestionKey: key, key: secret)) {
                    """
                    Created ingestion key \(key.name) (\(key.id)).
                    \(secret)
                    This is the only time the secret is shown; Rampart keeps only its hash.
                    """
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an ingestion key; the next batch sent with it is refused.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Key id.") var key: String

        func run() async throws {
            try await runReportingErrors {
                let key = self.key
                let revoked = try await tenant.write { try await $0.revokeIngestionKey(key, by: .system) }
                try tenant.output(revoked) { "Revoked ingestion key \(revoked.name) (\(revoked.id))." }
            }
        }
    }
}
