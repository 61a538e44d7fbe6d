//! The Diesel schema, one for both backends (see `migrations/postgres` and `migrations/sqlite`):
//! ids are text UUIDs, JSON is text, times are UTC `TIMESTAMP`s with microsecond precision.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        org_id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        permissions -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        org_id -> Text,
        user_id -> Nullable<Text>,
        name -> Text,
        key_hash -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    ai_usage (id) {
        id -> Text,
        org_id -> Text,
        user_id -> Nullable<Text>,
        feature -> Text,
        model -> Text,
        prompt_tokens -> BigInt,
        completion_tokens -> BigInt,
        cost_micro_usd -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    contacts (id) {
        id -> Text,
        org_id -> Text,
        status -> Text,
        search_text -> Text,
        fields -> Text,
        tags -> Text,
        custom -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_contacted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    contact_keys (contact_id, kind, value) {
        contact_id -> Text,
        kind -> Text,
        value -> Text,
        org_id -> Text,
    }
}

diesel::table! {
    connections (id) {
        id -> Text,
        org_id -> Text,
        user_id -> Nullable<Text>,
        provider -> Text,
        account -> Text,
        scopes -> Text,
        access_token -> Nullable<Text>,
        refresh_token -> Nullable<Text>,
        token_expires_at -> Nullable<Timestamp>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        settings -> Text,
    }
}

diesel::table! {
    provider_links (connection_id, external_id) {
        connection_id -> Text,
        external_id -> Text,
        org_id -> Text,
        contact_id -> Text,
        external_version -> Nullable<Text>,
        snapshot -> Nullable<Text>,
        snapshot_hash -> Nullable<Text>,
        remote_updated_at -> Nullable<Timestamp>,
        synced_at -> Timestamp,
    }
}

diesel::table! {
    sync_runs (id) {
        id -> Text,
        org_id -> Text,
        user_id -> Nullable<Text>,
        connection_id -> Nullable<Text>,
        provider -> Text,
        kind -> Text,
        status -> Text,
        created_count -> BigInt,
        updated_count -> BigInt,
        skipped_count -> BigInt,
        failed_count -> BigInt,
        filters -> Text,
        error -> Nullable<Text>,
        created_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        deleted_count -> BigInt,
        review_seq -> BigInt,
    }
}

diesel::table! {
    sync_items (id) {
        id -> Text,
        org_id -> Text,
        run_id -> Text,
        position -> BigInt,
        external_id -> Nullable<Text>,
        incoming -> Text,
        decision -> Text,
        target_contact_id -> Nullable<Text>,
        confidence -> Double,
        diff -> Text,
        recommendation -> Text,
        review -> Text,
    }
}

diesel::table! {
    sync_item_results (item_id) {
        item_id -> Text,
        run_id -> Text,
        outcome -> Text,
        contact_id -> Nullable<Text>,
        message -> Nullable<Text>,
        applied_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        org_id -> Text,
        actor -> Text,
        entity_type -> Text,
        entity_id -> Text,
        action -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        run_id -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    contact_activities (id) {
        id -> Text,
        org_id -> Text,
        contact_id -> Text,
        kind -> Text,
        summary -> Text,
        data -> Text,
        campaign_id -> Nullable<Text>,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    sync_cursors (connection_id, resource) {
        connection_id -> Text,
        resource -> Text,
        org_id -> Text,
        cursor_value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_receipts (id) {
        id -> Text,
        org_id -> Text,
        provider -> Text,
        delivery_id -> Text,
        connection_id -> Nullable<Text>,
        payload -> Text,
        received_at -> Timestamp,
        processed_at -> Nullable<Timestamp>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    campaigns (id) {
        id -> Text,
        org_id -> Text,
        user_id -> Nullable<Text>,
        name -> Text,
        status -> Text,
        subject_template -> Text,
        body_template -> Text,
        target -> Text,
        tone -> Nullable<Text>,
        estimated_cost_micro_usd -> BigInt,
        total_cost_micro_usd -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    campaign_messages (id) {
        id -> Text,
        org_id -> Text,
        campaign_id -> Text,
        contact_id -> Text,
        to_address -> Text,
        subject -> Text,
        body -> Text,
        state -> Text,
        reason -> Nullable<Text>,
        provider_message_id -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> Text,
        org_id -> Text,
        kind -> Text,
        queue -> Text,
        payload -> Text,
        unique_key -> Nullable<Text>,
        unique_slot -> Nullable<Text>,
        state -> Text,
        attempt -> Integer,
        max_attempts -> Integer,
        priority -> Integer,
        run_at -> Timestamp,
        locked_by -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    job_schedules (org_id, name) {
        org_id -> Text,
        name -> Text,
        schedule -> Text,
        kind -> Text,
        queue -> Text,
        payload -> Text,
        max_attempts -> Integer,
        priority -> Integer,
        next_run_at -> Timestamp,
    }
}

diesel::joinable!(contact_keys -> contacts (contact_id));
diesel::joinable!(provider_links -> contacts (contact_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    users,
    api_keys,
    ai_usage,
    contacts,
    contact_keys,
    connections,
    provider_links,
    sync_runs,
    sync_items,
    sync_item_results,
    audit_log,
    contact_activities,
    sync_cursors,
    webhook_receipts,
    campaigns,
    campaign_messages,
    jobs,
    job_schedules,
);
