/// One step of the schema. `tenantTables` names the tables it creates that belong to an
/// organisation: on PostgreSQL each gets forced row-level security keyed on `org_id`.
struct Migration: Sendable {
    let version: Int64
    let name: String
    let tenantTables: [String]
    let statements: @Sendable (SQLFlavor) -> [String]
}

extension SQLFlavor {
    /// Raw bytes are kept as base64 text on both backends so that every query reads the same.
    var blob: String { "TEXT" }

    /// Ends a CREATE TABLE whose rows are small and always found by their primary key: on
    /// SQLite the table is then stored in its key's B-tree, one write per row instead of two.
    var clusteredByKey: String { self == .sqlite ? " WITHOUT ROWID" : "" }
}
