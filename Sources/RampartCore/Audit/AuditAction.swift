/// An action from the catalogue in docs/events.md. Only these are ever written.
public struct AuditAction: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let organizationCreated = AuditAction(rawValue: "organization.created")
    public static let userCreated = AuditAction(rawValue: "user.created")
    public static let userUpdated = AuditAction(rawValue: "user.updated")
    public static let userDeleted = AuditAction(rawValue: "user.deleted")
    public static let userDeactivated = AuditAction(rawValue: "user.deactivated")
    /// A person's subject key was destroyed: their personal data in the log can no longer be read.
    public static let userErased = AuditAction(rawValue: "user.erased")
    public static let userReactivated = AuditAction(rawValue: "user.reactivated")
    public static let roleAssigned = AuditAction(rawValue: "role.assigned")
    public static let roleRevoked = AuditAction(rawValue: "role.revoked")
    public static let groupCreated = AuditAction(rawValue: "group.created")
    public static let groupUpdated = AuditAction(rawValue: "group.updated")
    public static let groupDeleted = AuditAction(rawValue: "group.deleted")
    public static let groupMemberAdded = AuditAction(rawValue: "group.member_added")
    public static let groupMemberRemoved = AuditAction(rawValue: "group.member_removed")
    public static let productCreated = AuditAction(rawValue: "product.created")
    public static let productUpdated = AuditAction(rawValue: "product.updated")
    public static let productDeleted = AuditAction(rawValue: "product.deleted")
    public static let productAccessGranted = AuditAction(rawValue: "product.access_granted")
    public static let productAccessRevoked = AuditAction(rawValue: "product.access_revoked")
    public static let apiTokenCreated = AuditAction(rawValue: "api_token.created")
    public static let apiTokenRevoked = AuditAction(rawValue: "api_token.revoked")
    public static let signinSucceeded = AuditAction(rawValue: "auth.signin_succeeded")
    public static let signinFailed = AuditAction(rawValue: "auth.signin_failed")
    public static let signout = AuditAction(rawValue: "auth.signout")
    public static let passwordSet = AuditAction(rawValue: "auth.password_set")
    public static let kekRotated = AuditAction(rawValue: "keys.kek_rotated")
    // Second factors (issue 12).
    public static let mfaFactorEnrolled = AuditAction(rawValue: "mfa.factor_enrolled")
    public static let mfaRecoveryCodesGenerated = AuditAction(rawValue: "mfa.recovery_codes_generated")
    public static let authPolicyCreated = AuditAction(rawValue: "auth_policy.created")
    public static let authPolicyUpdated = AuditAction(rawValue: "auth_policy.updated")
    public static let authPolicyAssigned = AuditAction(rawValue: "auth_policy.assigned")
    // Sign-in for every person (issue 12).
    public static let signinLockedOut = AuditAction(rawValue: "auth.locked_out")
    public static let passwordChanged = AuditAction(rawValue: "auth.password_changed")
    public static let passwordReset = AuditAction(rawValue: "auth.password_reset")
    public static let sessionEnded = AuditAction(rawValue: "auth.session_ended")
    public static let sessionElevated = AuditAction(rawValue: "auth.session_elevated")

    // Administration of people's authentication (issue 12): the actor is an admin.
    public static let authPolicyDeleted = AuditAction(rawValue: "auth_policy.deleted")
    public static let userSessionsEnded = AuditAction(rawValue: "auth.sessions_ended")
    public static let mfaReset = AuditAction(rawValue: "mfa.reset")
    public static let passwordResetForced = AuditAction(rawValue: "auth.password_reset_forced")
    public static let passwordHashImported = AuditAction(rawValue: "auth.password_hash_imported")

    // SCIM provisioning (issue 14): the actor is the SCIM token.
    public static let scimTokenCreated = AuditAction(rawValue: "scim_token.created")
    public static let scimTokenRevoked = AuditAction(rawValue: "scim_token.revoked")
    public static let scimSettingsUpdated = AuditAction(rawValue: "scim.settings_updated")
    public static let scimUserCreated = AuditAction(rawValue: "scim.user_created")
    public static let scimUserUpdated = AuditAction(rawValue: "scim.user_updated")
    public static let scimUserDeactivated = AuditAction(rawValue: "scim.user_deactivated")
    public static let scimUserReactivated = AuditAction(rawValue: "scim.user_reactivated")
    public static let scimUserDeleted = AuditAction(rawValue: "scim.user_deleted")
    public static let scimGroupCreated = AuditAction(rawValue: "scim.group_created")
    public static let scimGroupUpdated = AuditAction(rawValue: "scim.group_updated")
    public static let scimGroupMembersChanged = AuditAction(rawValue: "scim.group_members_changed")
    public static let scimGroupDeleted = AuditAction(rawValue: "scim.group_deleted")
    public static let passwordResetRequested = AuditAction(rawValue: "auth.password_reset_requested")
    public static let userInvited = AuditAction(rawValue: "user.invited")

    // Log streams to SIEMs (issue 16).
    public static let logStreamCreated = AuditAction(rawValue: "log_stream.created")
    public static let logStreamUpdated = AuditAction(rawValue: "log_stream.updated")
    public static let logStreamDeleted = AuditAction(rawValue: "log_stream.deleted")
    public static let logStreamDeadLettered = AuditAction(rawValue: "log_stream.dead_lettered")
    public static let logStreamDeadLetterReplayed = AuditAction(rawValue: "log_stream.dead_letter_replayed")
    public static let logStreamDeadLetterDiscarded = AuditAction(rawValue: "log_stream.dead_letter_discarded")

    // The OpenID Connect provider (issue 15).
    public static let oauthClientCreated = AuditAction(rawValue: "oauth_client.created")
    public static let oauthClientUpdated = AuditAction(rawValue: "oauth_client.updated")
    public static let oauthClientDeleted = AuditAction(rawValue: "oauth_client.deleted")
    public static let oauthClientSecretRotated = AuditAction(rawValue: "oauth_client.secret_rotated")
    public static let oauthSigningKeyRotated = AuditAction(rawValue: "oauth.signing_key_rotated")
    public static let oauthAuthorized = AuditAction(rawValue: "oauth.authorized")
    public static let oauthAuthorizationDenied = AuditAction(rawValue: "oauth.authorization_denied")
    public static let oauthTokensIssued = AuditAction(rawValue: "oauth.tokens_issued")
    public static let oauthGrantRevoked = AuditAction(rawValue: "oauth.grant_revoked")
    public static let oauthReplayDetected = AuditAction(rawValue: "oauth.replay_detected")
    public static let oauthBackchannelLogoutDelivered = AuditAction(rawValue: "oauth.backchannel_logout_delivered")
    public static let oauthBackchannelLogoutFailed = AuditAction(rawValue: "oauth.backchannel_logout_failed")

    // Product event ingestion (issue 16): the keys, and what products report (`ProductEvent`).
    public static let ingestionKeyCreated = AuditAction(rawValue: "ingestion_key.created")
    public static let ingestionKeyRevoked = AuditAction(rawValue: "ingestion_key.revoked")

    // Verified domains (issue 13): whose users are the organisation's managed accounts.
    public static let domainClaimed = AuditAction(rawValue: "domain.claimed")
    public static let domainVerified = AuditAction(rawValue: "domain.verified")
    public static let domainVerificationFailed = AuditAction(rawValue: "domain.verification_failed")
    public static let domainDeleted = AuditAction(rawValue: "domain.deleted")
    public static let auditRetentionChanged = AuditAction(rawValue: "audit.retention_changed")
    public static let auditPurged = AuditAction(rawValue: "audit.purged")
    /// The audit log's saved filters, shared by those who read it.
    public static let auditFilterCreated = AuditAction(rawValue: "audit_filter.created")
    public static let auditFilterUpdated = AuditAction(rawValue: "audit_filter.updated")
    public static let auditFilterDeleted = AuditAction(rawValue: "audit_filter.deleted")
    public static let auditExportRequested = AuditAction(rawValue: "audit.export_requested")
    public static let auditExportDeleted = AuditAction(rawValue: "audit.export_deleted")

    // Identity providers and federated sign-in (issue 13).
    public static let identityProviderCreated = AuditAction(rawValue: "identity_provider.created")
    public static let identityProviderUpdated = AuditAction(rawValue: "identity_provider.updated")
    public static let identityProviderDeleted = AuditAction(rawValue: "identity_provider.deleted")
    public static let ssoSigninFailed = AuditAction(rawValue: "sso.signin_failed")
    public static let ssoIdentityLinked = AuditAction(rawValue: "sso.identity_linked")
    public static let ssoTestCompleted = AuditAction(rawValue: "sso.test_completed")

    public static let catalogue: [AuditAction] = [
        .organizationCreated, .userCreated, .userUpdated, .userDeleted, .userDeactivated, .userReactivated,
        .userErased, .roleAssigned, .roleRevoked, .groupCreated, .groupUpdated, .groupDeleted, .groupMemberAdded,
        .groupMemberRemoved, .productCreated, .productUpdated, .productDeleted, .productAccessGranted,
        .productAccessRevoked, .apiTokenCreated, .apiTokenRevoked, .signinSucceeded, .signinFailed, .signout,
        .passwordSet, .kekRotated,
        .mfaFactorEnrolled, .mfaRecoveryCodesGenerated, .authPolicyCreated, .authPolicyUpdated, .authPolicyAssigned,
        .signinLockedOut, .passwordChanged, .passwordReset, .sessionEnded, .sessionElevated,
        .authPolicyDeleted, .userSessionsEnded, .mfaReset, .passwordResetForced, .passwordHashImported,
        .scimTokenCreated, .scimTokenRevoked, .scimSettingsUpdated, .scimUserCreated, .scimUserUpdated,
        .scimUserDeactivated, .scimUserReactivated, .scimUserDeleted, .scimGroupCreated, .scimGroupUpdated,
        .scimGroupMembersChanged, .scimGroupDeleted, .passwordResetRequested, .userInvited,
        .logStreamCreated, .logStreamUpdated, .logStreamDeleted,
        .logStreamDeadLettered, .logStreamDeadLetterReplayed, .logStreamDeadLetterDiscarded,
        .oauthClientCreated, .oauthClientUpdated, .oauthClientDeleted, .oauthClientSecretRotated,
        .oauthSigningKeyRotated, .oauthAuthorized, .oauthAuthorizationDenied, .oauthTokensIssued,
        .oauthGrantRevoked, .oauthReplayDetected,
        .oauthBackchannelLogoutDelivered, .oauthBackchannelLogoutFailed,
        .ingestionKeyCreated, .ingestionKeyRevoked,
        .domainClaimed, .domainVerified, .domainVerificationFailed, .domainDeleted,
        .auditRetentionChanged, .auditPurged, .auditFilterCreated, .auditFilterUpdated, .auditFilterDeleted,
        .auditExportRequested, .auditExportDeleted,
        .identityProviderCreated, .identityProviderUpdated, .identityProviderDeleted, .ssoSigninFailed,
        .ssoIdentityLinked, .ssoTestCompleted,
    ] + ProductEvent.actions
}
