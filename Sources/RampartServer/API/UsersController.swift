import Hummingbird
import RampartCore
import RampartStorage

struct UsersController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/users", list),
            APIRoute(.post, "/users", create),
            APIRoute(.get, "/users/{id}", show),
            APIRoute(.patch, "/users/{id}", update),
            APIRoute(.delete, "/users/{id}", delete),
            APIRoute(.post, "/users/{id}/deactivate", deactivate),
            APIRoute(.post, "/users/{id}/reactivate", reactivate),
            APIRoute(.post, "/users/{id}/erase", erase),
            APIRoute(.get, "/users/{id}/access", access),
        ]
    }

    struct CreateRequest: StrictBody {
        let email: String
        let displayName: String
        static let fields: Set<String> = ["email", "displayName"]
        static let required: Set<String> = ["email", "displayName"]
    }

    struct UpdateRequest: StrictBody {
        let email: String?
        let displayName: String?
        static let fields: Set<String> = ["email", "displayName"]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        var filter = UserFilter()
        filter.email = try request.query("email", maxLength: 320)
        if let status = try request.query("status") {
            guard let parsed = UserStatus(rawValue: status) else {
                throw RampartError(.invalidParameter, "Query parameter 'status' must be 'active' or 'deactivated'.")
            }
            filter.status = parsed
        }
        let page = try request.pageRequest()
        let filterValue = filter
        return try JSON.response(PageBody(try await read(context, .readDirectory) { try await $0.users(filterValue, page: page) }))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let user = try await write(request, context, .manageDirectory) {
            try await $0.createUser(email: body.email, displayName: body.displayName, by: $1)
        }
        var response = try JSON.response(user, status: .created)
        response.headers[.location] = "/api/v1/users/\(user.id)"
        return response
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(try await read(context, .readDirectory) { try await $0.requireUser(id) })
    }

    @Sendable func update(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await Body.decode(UpdateRequest.self, from: request)
        return try JSON.response(try await writeAccount(request, context, .manageDirectory, account: id) {
            try await $0.updateUser(id, email: body.email, displayName: body.displayName, by: $1)
        })
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        try await writeAccount(request, context, .manageDirectory, account: id) { try await $0.deleteUser(id, by: $1) }
        return JSON.noContent()
    }

    @Sendable func deactivate(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(try await writeAccount(request, context, .manageDirectory, account: id) {
            try await $0.setUserStatus(id, .deactivated, by: $1)
        })
    }

    /// Crypto-shreds the person from the audit log (`Tenant.eraseUser`); also for a user
    /// deleted earlier, whose id is then no longer in the directory.
    @Sendable func erase(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let erasure = try await write(request, context, .eraseUsers) { try await $0.eraseUser(id, by: $1) }
        await services.database.scrubAfterErasure()
        return try JSON.response(erasure)
    }

    /// The products the user may use and the groups that give each, as the console's user page shows them.
    @Sendable func access(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(ListBody(data: try await read(context, .readDirectory) { try await $0.effectiveAccess(ofUser: id) }))
    }

    @Sendable func reactivate(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(try await writeAccount(request, context, .manageDirectory, account: id) {
            try await $0.setUserStatus(id, .active, by: $1)
        })
    }
}
