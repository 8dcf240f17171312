/// Links people are sent or shown (setup, reset and invitation links, the SCIM base URL): the
/// public URL the administrator configured, without its trailing slashes, then the path.
public enum PublicLink {
    public static func to(_ path: String, at publicURL: String) -> String {
        var base = Substring(publicURL)
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }
}
