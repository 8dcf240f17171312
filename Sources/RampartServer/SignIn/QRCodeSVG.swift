import CQREncode

/// A QR code as inline SVG, encoded by libqrencode: the console has no script and loads no
/// images from elsewhere, so the enrolment page carries the code in its own HTML.
enum QRCodeSVG {
    /// nil only if libqrencode cannot encode the text (far longer than any otpauth URI).
    static func render(_ text: String, moduleSize: Int = 6) -> String? {
        guard let code = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        let quiet = 4
        let side = (width + 2 * quiet) * moduleSize
        var path = ""
        for y in 0..<width {
            for x in 0..<width where code.pointee.data[y * width + x] & 1 == 1 {
                path += "M\((x + quiet) * moduleSize) \((y + quiet) * moduleSize)h\(moduleSize)v\(moduleSize)h-\(moduleSize)z"
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(side)" height="\(side)" viewBox="0 0 \(side) \(side)" \
            role="img" aria-label="QR code for your authenticator app" class="qr">\
            <rect width="100%" height="100%" fill="#fff"/><path d="\(path)" fill="#000"/></svg>
            """
    }
}
