import Hummingbird
import RampartCore

/// A browser request (authorize, sign-out) carried through a page the person answers
/// (consent, "Sign out?"): its parameters ride in a hidden field and come back under the
/// session's own form token, to be checked again from the start.
enum ConfirmedRequest {
    /// The parameters as the hidden field holds them.
    static func encode(_ parameters: [String: String]) -> String {
        parameters.sorted { $0.key < $1.key }
            .map { "\(AuthorizationRequest.formEncoded($0.key))=\(AuthorizationRequest.formEncoded($0.value))" }
            .joined(separator: "&")
    }

    /// The answer: the form (for its buttons) and the original parameters.
    static func read(_ request: Request, services: RampartServices, ended: String) async throws
        -> (form: ConsoleForm, parameters: [String: String])
    {
        guard let (_, signedIn) = try await SessionResolver(services: services).resolve(request) else {
            throw RampartError(.forbidden, ended)
        }
        let form = try await ConsoleForm.read(request, expectedCSRF: signedIn.csrfToken)
        return (form, try AuthorizeController.parameters(form["request"]))
    }
}
