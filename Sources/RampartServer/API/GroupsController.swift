import Hummingbird
import RampartCore
import RampartStorage

struct GroupsController: APIController {
    let services: RampartServices

    var routes: [APIRoute] {
        [
            APIRoute(.get, "/groups", list),
            APIRoute(.post, "/groups", create),
            APIRoute(.get, "/groups/{id}", show),
            APIRoute(.patch, "/groups/{id}", update),
            APIRoute(.delete, "/groups/{id}", delete),
            APIRoute(.get, "/groups/{id}/members", members),
            APIRoute(.put, "/groups/{id}/members/{userId}", addMember),
            APIRoute(.delete, "/groups/{id}/members/{userId}", removeMember),
        ]
    }

    struct CreateRequest: StrictBody {
        let name: String
        let description: String?
        static let fields: Set<String> = ["name", "description"]
        static let required: Set<String> = ["name"]
    }

    struct UpdateRequest: StrictBody {
        let name: String?
        let description: String?
        static let fields: Set<String> = ["name", "description"]
    }

    @Sendable func list(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let page = try request.pageRequest()
        return try JSON.response(PageBody(try await read(context, .readDirectory) { try await $0.groups(page: page) }))
    }

    @Sendable func create(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let body = try await Body.decode(CreateRequest.self, from: request)
        let group = try await write(request, context, .manageDirectory) {
            try await $0.createGroup(name: body.name, description: body.description, by: $1)
        }
        var response = try JSON.response(group, status: .created)
        response.headers[.location] = "/api/v1/groups/\(group.id)"
        return response
    }

    @Sendable func show(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        return try JSON.response(try await read(context, .readDirectory) { try await $0.requireGroup(id) })
    }

    @Sendable func update(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let body = try await Body.decode(UpdateRequest.self, from: request)
        return try JSON.response(try await write(request, context, .manageDirectory) {
            try await $0.updateGroup(id, name: body.name, description: body.description, by: $1)
        })
    }

    @Sendable func delete(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        try await write(request, context, .manageDirectory) { try await $0.deleteGroup(id, by: $1) }
        return JSON.noContent()
    }

    @Sendable func members(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let page = try request.pageRequest()
        return try JSON.response(PageBody(try await read(context, .readDirectory) { try await $0.groupMembers(id, page: page) }))
    }

    @Sendable func addMember(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let userID = try context.id("userId")
        try await write(request, context, .manageDirectory) { try await $0.addMember(userID, to: id, by: $1) }
        return JSON.noContent()
    }

    @Sendable func removeMember(_ request: Request, context: RampartRequestContext) async throws -> Response {
        let id = try context.id()
        let userID = try context.id("userId")
        try await write(request, context, .manageDirectory) { try await $0.removeMember(userID, from: id, by: $1) }
        return JSON.noContent()
    }
}
