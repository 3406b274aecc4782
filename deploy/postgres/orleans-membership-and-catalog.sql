-- VectorStore cluster mode on PostgreSQL (VectorStore:Cluster:Clustering = AdoNet, AdoNetInvariant = Npgsql).
--
-- Orleans' ADO.NET providers keep no SQL of their own: at start-up they read their statements, by key, from a table
-- named OrleansQuery, and then run them with named parameters (@DeploymentId, @Address, ...). This file is VectorStore's
-- own schema for the two providers a node uses:
--   * Microsoft.Orleans.Clustering.AdoNet  - the membership table (which silos are in the cluster, and their status);
--   * Microsoft.Orleans.Persistence.AdoNet - grain state, used for the cluster catalog (grain storage "vectorstore-catalog").
-- Written against the contract of the 10.4.2 packages: the query keys, parameter names and result column names below
-- are the ones those assemblies use. Tables and columns are named our way; results are aliased to the names Orleans reads.
-- Required keys: 9 for membership (start-up fails without any of them) and WriteToStorageKey, ReadFromStorageKey,
-- ClearStorageKey for grain state. Optional: CleanupDefunctSiloEntryKey and DeleteStorageKey (DeleteStateOnClear).
--
-- Apply once per database, before the first node starts (running it again is harmless: it creates what is missing and
-- refreshes the stored statements):
--   psql "host=db.example port=5432 dbname=vectorstore user=vectorstore" -v ON_ERROR_STOP=1 -f orleans-membership-and-catalog.sql
-- Tested with PostgreSQL 15. Reminders, streams and the ADO.NET grain directory are not used by VectorStore and are
-- not covered here.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);

-- ---------------------------------------------------------------------------------------------------------------------
-- Membership
--
-- Orleans keeps one version number per cluster (the "deployment", Orleans' ClusterId). Every change to a silo's row
-- (join, status change, suspicion) is made together with an increment of that number, and only if the number is still
-- the one the silo read: the optimistic concurrency that keeps two silos from overwriting each other's view. The
-- liveness heartbeat (IAmAliveTime) is the one write that does not take part in it.
-- ---------------------------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS orleans_membership_version
(
    deployment_id varchar(150) NOT NULL PRIMARY KEY,
    version       integer      NOT NULL DEFAULT 0,
    changed_at    timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS orleans_membership
(
    deployment_id   varchar(150) NOT NULL REFERENCES orleans_membership_version (deployment_id) ON DELETE CASCADE,
    address         varchar(45)  NOT NULL,  -- IPv4 or IPv6 text
    port            integer      NOT NULL,  -- silo-to-silo port
    generation      integer      NOT NULL,  -- distinguishes restarts on the same address and port
    silo_name       varchar(150) NOT NULL,
    host_name       varchar(150) NOT NULL,
    status          integer      NOT NULL,  -- Orleans SiloStatus: 3 Active, 4 ShuttingDown, 5 Stopping, 6 Dead, ...
    proxy_port      integer      NOT NULL DEFAULT 0,  -- gateway port, 0 when the silo is no gateway
    suspect_times   text         NULL,      -- Orleans' own encoding: "silo,time|silo,time"
    start_time      timestamptz  NOT NULL,
    i_am_alive_time timestamptz  NOT NULL,
    PRIMARY KEY (deployment_id, address, port, generation)
);

-- ---------------------------------------------------------------------------------------------------------------------
-- Grain state (the catalog)
--
-- A grain is identified by service, grain type and key. Orleans hands over two 32-bit hashes (of the key and of the
-- type) for the index, and the key itself split into two 64-bit halves (GUID or integer keys) plus a string part
-- (string keys, or a key extension). The version is the state's ETag: a write names the version it read and succeeds
-- only if that is still the stored one; a first write names none and succeeds only if there is no row yet.
-- ---------------------------------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS orleans_grain_state
(
    service_id      varchar(150) NOT NULL,
    grain_type_hash integer      NOT NULL,
    grain_id_hash   integer      NOT NULL,
    grain_type      varchar(512) NOT NULL,
    grain_id_n0     bigint       NOT NULL,
    grain_id_n1     bigint       NOT NULL,
    grain_id_string text         NULL,
    payload         bytea        NULL,      -- NULL after a clear: the row (and its version) stays
    version         integer      NOT NULL,
    modified_at     timestamptz  NOT NULL DEFAULT now()
);

-- One row per grain. md5() keeps long string keys within the index's size limit and treats a missing string part as
-- one value, so two first writes of the same grain cannot both insert.
CREATE UNIQUE INDEX IF NOT EXISTS orleans_grain_state_key
    ON orleans_grain_state (grain_id_hash, grain_type_hash, service_id, grain_id_n0, grain_id_n1, grain_type,
                            md5(coalesce(grain_id_string, '')));

-- ---------------------------------------------------------------------------------------------------------------------
-- The statements Orleans runs, by key. Keys and result column names are Orleans'; everything else is ours.
-- ---------------------------------------------------------------------------------------------------------------------

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Creates the cluster's version row if it is not there yet; one boolean: whether this call created it.
('InsertMembershipVersionKey', $sql$
    WITH created AS (
        INSERT INTO orleans_membership_version (deployment_id, version)
        VALUES (@DeploymentId, 0)
        ON CONFLICT (deployment_id) DO NOTHING
        RETURNING 1)
    SELECT count(*) = 1 AS "Created" FROM created
$sql$),

-- Adds a silo if the table is still at @Version and the silo is not there; one boolean: whether it was added.
('InsertMembershipKey', $sql$
    WITH bumped AS (
        UPDATE orleans_membership_version
        SET version = version + 1, changed_at = now()
        WHERE deployment_id = @DeploymentId
          AND version = @Version
          AND NOT EXISTS (SELECT 1 FROM orleans_membership
                          WHERE deployment_id = @DeploymentId AND address = @Address
                            AND port = @Port AND generation = @Generation)
        RETURNING deployment_id),
    added AS (
        INSERT INTO orleans_membership (deployment_id, address, port, generation, silo_name, host_name, status,
                                        proxy_port, start_time, i_am_alive_time)
        SELECT deployment_id, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
               @ProxyPort, @StartTime, @IAmAliveTime
        FROM bumped
        RETURNING 1)
    SELECT count(*) = 1 AS "Inserted" FROM added
$sql$),

-- Changes a silo's status, suspicions and liveness if the table is still at @Version; one boolean: whether it did.
('UpdateMembershipKey', $sql$
    WITH bumped AS (
        UPDATE orleans_membership_version
        SET version = version + 1, changed_at = now()
        WHERE deployment_id = @DeploymentId
          AND version = @Version
          AND EXISTS (SELECT 1 FROM orleans_membership
                      WHERE deployment_id = @DeploymentId AND address = @Address
                        AND port = @Port AND generation = @Generation)
        RETURNING deployment_id),
    changed AS (
        UPDATE orleans_membership AS m
        SET status = @Status, suspect_times = @SuspectTimes, i_am_alive_time = @IAmAliveTime
        FROM bumped
        WHERE m.deployment_id = bumped.deployment_id
          AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
        RETURNING 1)
    SELECT count(*) = 1 AS "Updated" FROM changed
$sql$),

-- The heartbeat: no version check, no version change.
('UpdateIAmAlivetimeKey', $sql$
    UPDATE orleans_membership
    SET i_am_alive_time = @IAmAliveTime
    WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$sql$),

-- One silo's row with the table version. The version row always yields a row: with no such silo its columns are NULL
-- (Orleans reads a NULL StartTime as "no entry" and still takes the version).
('MembershipReadRowKey', $sql$
    SELECT v.version AS "Version",
           m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
           m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
           m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
    FROM orleans_membership_version AS v
    LEFT JOIN orleans_membership AS m
           ON m.deployment_id = v.deployment_id
          AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
    WHERE v.deployment_id = @DeploymentId
$sql$),

-- Every silo of the cluster with the table version (one row of NULLs and the version when there is none yet).
('MembershipReadAllKey', $sql$
    SELECT v.version AS "Version",
           m.address AS "Address", m.port AS "Port", m.generation AS "Generation",
           m.silo_name AS "SiloName", m.host_name AS "HostName", m.status AS "Status", m.proxy_port AS "ProxyPort",
           m.suspect_times AS "SuspectTimes", m.start_time AS "StartTime", m.i_am_alive_time AS "IAmAliveTime"
    FROM orleans_membership_version AS v
    LEFT JOIN orleans_membership AS m ON m.deployment_id = v.deployment_id
    WHERE v.deployment_id = @DeploymentId
$sql$),

-- Gateways clients may connect to: active silos with a gateway port.
('GatewaysQueryKey', $sql$
    SELECT address AS "Address", proxy_port AS "ProxyPort", generation AS "Generation"
    FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND status = @Status AND proxy_port > 0
$sql$),

-- Forgets a whole cluster (its silos go with the version row).
('DeleteMembershipTableEntriesKey', $sql$
    DELETE FROM orleans_membership_version WHERE deployment_id = @DeploymentId
$sql$),

-- Drops rows of silos that are dead and have not been heard of since @IAmAliveTime.
('CleanupDefunctSiloEntriesKey', $sql$
    DELETE FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND status = 6 AND i_am_alive_time < @IAmAliveTime
$sql$),

-- Optional; when present Orleans cleans up row by row instead: it reads the table, picks the dead silos not heard of
-- since its cut-off, and deletes each only if the row is still exactly what it read (so a silo that changed meanwhile
-- stays).
('CleanupDefunctSiloEntryKey', $sql$
    DELETE FROM orleans_membership
    WHERE deployment_id = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
      AND status = 6 AND start_time = @StartTime AND i_am_alive_time = @IAmAliveTime
      AND suspect_times IS NOT DISTINCT FROM @SuspectTimes
$sql$),

-- A grain's state and version; no row when the grain was never written.
('ReadFromStorageKey', $sql$
    SELECT payload AS "PayloadBinary", version AS "Version"
    FROM orleans_grain_state
    WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1 AND grain_type = @GrainTypeString
      AND grain_id_string IS NOT DISTINCT FROM @GrainIdExtensionString
$sql$),

-- Writes a grain's state. With @GrainStateVersion: replaces the row still at that version. Without: inserts the first
-- row. Returns the new version, or no row when the version did not match (Orleans then raises a version conflict).
('WriteToStorageKey', $sql$
    WITH replaced AS (
        UPDATE orleans_grain_state
        SET payload = @PayloadBinary, version = version + 1, modified_at = now()
        WHERE @GrainStateVersion IS NOT NULL AND version = @GrainStateVersion
          AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash AND service_id = @ServiceId
          AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1 AND grain_type = @GrainTypeString
          AND grain_id_string IS NOT DISTINCT FROM @GrainIdExtensionString
        RETURNING version),
    first_write AS (
        INSERT INTO orleans_grain_state (service_id, grain_type_hash, grain_id_hash, grain_type, grain_id_n0,
                                         grain_id_n1, grain_id_string, payload, version)
        SELECT @ServiceId, @GrainTypeHash, @GrainIdHash, @GrainTypeString, @GrainIdN0,
               @GrainIdN1, @GrainIdExtensionString, @PayloadBinary, 1
        WHERE @GrainStateVersion IS NULL
        ON CONFLICT DO NOTHING
        RETURNING version)
    SELECT version AS "NewGrainStateVersion" FROM replaced
    UNION ALL
    SELECT version FROM first_write
$sql$),

-- Clears a grain's state but keeps its row (and so its version), if still at @GrainStateVersion; returns the new version.
('ClearStorageKey', $sql$
    UPDATE orleans_grain_state
    SET payload = NULL, version = version + 1, modified_at = now()
    WHERE version = @GrainStateVersion
      AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1 AND grain_type = @GrainTypeString
      AND grain_id_string IS NOT DISTINCT FROM @GrainIdExtensionString
    RETURNING version AS "NewGrainStateVersion"
$sql$),

-- With DeleteStateOnClear: removes the row if still at @GrainStateVersion. Orleans wants a value different from the
-- version it sent back as proof, so this returns the next one.
('DeleteStorageKey', $sql$
    DELETE FROM orleans_grain_state
    WHERE version = @GrainStateVersion
      AND grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash AND service_id = @ServiceId
      AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1 AND grain_type = @GrainTypeString
      AND grain_id_string IS NOT DISTINCT FROM @GrainIdExtensionString
    RETURNING version + 1 AS "NewGrainStateVersion"
$sql$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
