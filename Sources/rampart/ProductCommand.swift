import ArgumentParser
import RampartCore
import RampartStorage

struct ProductCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "product", abstract: "List and create products and decide which groups may use them.",
        subcommands: [List.self, Create.self, Update.self, Access.self, Grant.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List an organisation's products.")
        @OptionGroup var tenant: TenantOptions

        func run() async throws {
            try await runReportingErrors {
                let products = try await tenant.read { tenant in try await tenant.all { try await tenant.products(page: $0) } }
                try tenant.output(["data": products]) {
                    table(products.map { [$0.id, $0.kind.rawValue, $0.name, $0.url] }, empty: "No products.")
                }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a product.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Name, unique in the organisation.") var name: String
        @Option(help: "One of \(ProductKind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: ProductKind
        @Option(help: "Where people open it (http or https).") var url: String

        func run() async throws {
            try await runReportingErrors {
                let product = try await tenant.write { try await $0.createProduct(name: name, kind: kind, url: url, by: .system) }
                try tenant.output(product) { "Created product \(product.name) (\(product.id))." }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a product or change its URL.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Product id or name.") var product: String
        @Option(help: "The new name.") var name: String?
        @Option(help: "The new URL (https, or http on a loopback host).") var url: String?

        func validate() throws {
            guard name != nil || url != nil else { throw ValidationError("Give --name or --url.") }
        }

        func run() async throws {
            try await runReportingErrors {
                let (product, name, url) = (self.product, self.name, self.url)
                let updated = try await tenant.write { tenant in
                    try await tenant.updateProduct(try await tenant.findProduct(product).id, name: name, kind: nil, url: url,
                                                   by: .system)
                }
                try tenant.output(updated) { "Updated product \(updated.name) (\(updated.id))." }
            }
        }
    }

    struct Access: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the groups that may use a product.")
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Product id or name.") var product: String

        func run() async throws {
            try await runReportingErrors {
                let groups = try await tenant.read { try await $0.productAccess($0.findProduct(product).id) }
                try tenant.output(["data": groups]) {
                    table(groups.map { [$0.id, $0.name] }, empty: "No group may use \(product) yet.")
                }
            }
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a group's members use a product; granting again changes nothing.")
        @OptionGroup var access: AccessOptions

        func run() async throws {
            try await access.change({ try await $0.grantProductAccess($1.id, to: $2.id, by: .system) }) {
                $0.changed ? "\($0.group.name) may now use \($0.product.name)."
                    : "\($0.group.name) could already use \($0.product.name); nothing changed."
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a product away from a group; revoking access it does not have changes nothing.")
        @OptionGroup var access: AccessOptions

        func run() async throws {
            try await access.change({ try await $0.revokeProductAccess($1.id, from: $2.id, by: .system) }) {
                $0.changed ? "\($0.group.name) may no longer use \($0.product.name)."
                    : "\($0.group.name) had no access to \($0.product.name); nothing changed."
            }
        }
    }

    struct AccessOptions: ParsableArguments {
        @OptionGroup var tenant: TenantOptions
        @Option(help: "Product id or name.") var product: String
        @Option(help: "Group id or name.") var group: String

        func change(_ apply: @escaping @Sendable (Tenant, Product, Group) async throws -> Bool,
                    done: (ProductAccess) -> String) async throws {
            let (product, group) = (self.product, self.group)
            try await tenant.change({ (try await $0.findProduct(product), try await $0.findGroup(group)) }, { tenant, found in
                ProductAccess(product: found.0, group: found.1, changed: try await apply(tenant, found.0, found.1))
            }, done: done)
        }
    }

    /// What `grant` and `revoke` resolved and whether they changed anything, which `--json` prints.
    struct ProductAccess: Encodable, Sendable {
        let product: Product
        let group: Group
        let changed: Bool
    }
}

extension ProductKind: ExpressibleByArgument {}
