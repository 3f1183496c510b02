-- Views for analysts: the common questions, answered once. Created by warehouse/views.py in the
-- private file after every load and in the published snapshot, so `cchc sql` sees them.
-- No view exposes personal data (applicant name, identity number, phone).
-- Dates are calendar days in Asia/Ho_Chi_Minh (the core table stores them that way already).

-- The life of every received dossier as form 06 counts it. One definition, used by form 06
-- (warehouse/form06.py) and the rate views, so they cannot disagree.
CREATE OR REPLACE VIEW out_onestop__dossier_lifecycle AS
WITH received AS (
    SELECT
        *,
        CASE
            WHEN status IN (9, 10) THEN coalesce(finished_date, returned_date)
            -- a withdrawal has no finish date in many records: its last update is the withdrawal
            WHEN status = 7 THEN coalesce(
                finished_date, returned_date, (updated_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::DATE)
        END AS closed_raw
    FROM core_onestop__dossiers
    WHERE status NOT IN (1, 3) AND received_date IS NOT NULL
),
closed AS (
    SELECT
        *,
        -- never closed before it was received: keeps "received = resolved + in progress" exact
        CASE WHEN closed_raw IS NOT NULL THEN greatest(closed_raw, received_date) END AS closed_date
    FROM received
)
SELECT
    dossier_code, unit_code, procedure_code, field_code, field_name, service_level, channel,
    status, received_date, due_date, closed_date,
    CASE
        WHEN closed_date IS NULL THEN NULL
        WHEN status = 7 THEN 'withdrawn'
        WHEN due_date IS NULL THEN 'no_due_date'
        WHEN closed_date < due_date THEN 'before_due'
        WHEN closed_date = due_date THEN 'on_due'
        ELSE 'after_due'
    END AS closed_timeliness,
    status IN (5, 6, 8) AS waiting,
    digitisation, electronic_result, paid_online, rating
FROM closed;

COMMENT ON VIEW out_onestop__dossier_lifecycle IS 'One row per received dossier (status not 1 or 3) with the day it closed: processing finished (status 9, 10; else the return day) or withdrawn (7; else the day of its last update), never before reception. closed_timeliness compares that day with the due day; withdrawn and no_due_date count as on time in form 06 (column 9). Open dossiers have closed_date NULL.';

-- Dossiers with readable Vietnamese labels, unit name, and no personal data.
CREATE OR REPLACE VIEW out_onestop__dossiers AS
SELECT
    d.dossier_code,
    d.unit_code,
    u.name AS unit_name,
    d.receiving_unit_name,
    d.procedure_code,
    d.procedure_name,
    d.field_code,
    d.field_name,
    d.service_level,
    CASE d.service_level
        WHEN 2 THEN 'Cung cấp thông tin' WHEN 3 THEN 'Một phần' WHEN 4 THEN 'Toàn trình'
    END AS service_level_label,
    d.channel,
    CASE d.channel
        WHEN 1 THEN 'Trực tiếp' WHEN 2 THEN 'Trực tuyến' WHEN 3 THEN 'Bưu chính công ích'
    END AS channel_label,
    d.applicant_type,
    CASE d.applicant_type
        WHEN 'CongDan' THEN 'Công dân' WHEN 'DoanhNghiep' THEN 'Doanh nghiệp'
        WHEN 'ToChuc' THEN 'Tổ chức'
    END AS applicant_type_label,
    d.status,
    CASE d.status
        WHEN 1 THEN 'Mới đăng ký' WHEN 2 THEN 'Được tiếp nhận' WHEN 3 THEN 'Không được tiếp nhận'
        WHEN 4 THEN 'Đang xử lý' WHEN 5 THEN 'Yêu cầu bổ sung giấy tờ'
        WHEN 6 THEN 'Yêu cầu thực hiện nghĩa vụ tài chính'
        WHEN 7 THEN 'Công dân yêu cầu rút hồ sơ' WHEN 8 THEN 'Dừng xử lý'
        WHEN 9 THEN 'Đã xử lý xong' WHEN 10 THEN 'Đã trả kết quả'
    END AS status_label,
    d.received_date,
    d.due_date,
    d.finished_date,
    d.returned_date,
    d.received_at,
    d.due_at,
    d.finished_at,
    d.returned_at,
    d.timeliness,
    d.digitisation,
    CASE d.digitisation
        WHEN 0 THEN 'Chưa số hóa' WHEN 1 THEN 'Đã số hóa' WHEN 2 THEN 'Tái sử dụng thành phần'
        WHEN 3 THEN 'Tái sử dụng kết quả'
    END AS digitisation_label,
    d.electronic_result,
    d.paid_online,
    d.rating,
    CASE d.rating
        WHEN 'RatHaiLong' THEN 'Rất hài lòng' WHEN 'HaiLong' THEN 'Hài lòng'
        WHEN 'KhongHaiLong' THEN 'Không hài lòng'
    END AS rating_label,
    d.updated_at,
    d.dq_warnings,
    d.load_id
FROM core_onestop__dossiers d
LEFT JOIN dim_admin_unit u USING (unit_code);

COMMENT ON VIEW out_onestop__dossiers IS 'One row per dossier in its newest known state, with Vietnamese labels for level, channel, applicant type, status, digitisation and rating, and the unit name from dim_admin_unit. Personal data (applicant name, identity number, phone) is left out.';

-- Monthly rates per unit (Decision 766/QĐ-TTg indicators).
CREATE OR REPLACE VIEW out_onestop__rates_by_unit_month AS
WITH received AS (
    SELECT
        unit_code,
        date_trunc('month', received_date)::DATE AS month,
        count(*) AS received,
        count(*) FILTER (channel = 2) AS received_online,
        count(*) FILTER (channel IS DISTINCT FROM 2) AS received_counter_postal,
        count(*) FILTER (digitisation IN (1, 2, 3)) AS digitised,
        count(*) FILTER (paid_online) AS paid_online,
        count(*) FILTER (rating IS NOT NULL) AS rated,
        count(*) FILTER (rating IN ('RatHaiLong', 'HaiLong')) AS satisfied
    FROM out_onestop__dossier_lifecycle
    GROUP BY ALL
),
resolved AS (
    SELECT
        unit_code,
        date_trunc('month', closed_date)::DATE AS month,
        count(*) AS resolved,
        count(*) FILTER (closed_timeliness = 'before_due') AS resolved_before_due,
        count(*) FILTER (closed_timeliness IN ('on_due', 'no_due_date', 'withdrawn'))
            AS resolved_on_due,
        count(*) FILTER (closed_timeliness = 'after_due') AS resolved_late,
        count(*) FILTER (closed_timeliness = 'no_due_date') AS resolved_no_due_date,
        count(*) FILTER (closed_timeliness = 'withdrawn') AS withdrawn,
        count(*) FILTER (status IN (9, 10)) AS finished,
        count(*) FILTER (status IN (9, 10) AND electronic_result) AS electronic_results
    FROM out_onestop__dossier_lifecycle
    WHERE closed_date IS NOT NULL
    GROUP BY ALL
)
SELECT
    unit_code,
    u.name AS unit_name,
    month,
    coalesce(received, 0) AS received,
    coalesce(received_online, 0) AS received_online,
    coalesce(received_counter_postal, 0) AS received_counter_postal,
    round(received_online / nullif(received_online + received_counter_postal, 0), 4) AS online_rate,
    coalesce(resolved, 0) AS resolved,
    coalesce(resolved_before_due, 0) AS resolved_before_due,
    coalesce(resolved_on_due, 0) AS resolved_on_due,
    coalesce(resolved_late, 0) AS resolved_late,
    coalesce(resolved_no_due_date, 0) AS resolved_no_due_date,
    coalesce(withdrawn, 0) AS withdrawn,
    round((resolved_before_due + resolved_on_due) / nullif(resolved, 0), 4) AS on_time_rate,
    round(digitised / nullif(received, 0), 4) AS digitised_rate,
    round(electronic_results / nullif(finished, 0), 4) AS electronic_result_rate,
    round(paid_online / nullif(received, 0), 4) AS online_payment_rate,
    coalesce(rated, 0) AS rated,
    round(satisfied / nullif(rated, 0), 4) AS satisfaction_rate
FROM received
FULL OUTER JOIN resolved USING (unit_code, month)
LEFT JOIN dim_admin_unit u USING (unit_code)
ORDER BY unit_code, month;

COMMENT ON VIEW out_onestop__rates_by_unit_month IS 'Per unit and calendar month. Reception figures count dossiers received in the month (form 06 columns 4 and 5); resolution figures count dossiers closed in the month (columns 7 to 10). online_rate = online / (online + counter and postal), carried-over dossiers excluded; on_time_rate = (before + on the due day) / resolved, where on the due day includes withdrawals and dossiers without a due date (resolved_no_due_date says how many: the vendor counts them as on time). digitised_rate, online_payment_rate: share of dossiers received; electronic_result_rate: share of finished (status 9, 10); satisfaction_rate: (very) satisfied / rated.';

-- Dossiers still open today past their due day.
CREATE OR REPLACE VIEW out_onestop__overdue_open AS
SELECT
    l.dossier_code,
    l.unit_code,
    u.name AS unit_name,
    l.procedure_code,
    d.procedure_name,
    l.field_name,
    l.status,
    l.waiting,
    l.received_date,
    l.due_date,
    (current_timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')::DATE - l.due_date AS days_overdue
FROM out_onestop__dossier_lifecycle l
JOIN core_onestop__dossiers d USING (dossier_code)
LEFT JOIN dim_admin_unit u ON u.unit_code = l.unit_code
WHERE l.closed_date IS NULL
  AND l.due_date < (current_timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')::DATE
ORDER BY days_overdue DESC, l.dossier_code;

COMMENT ON VIEW out_onestop__overdue_open IS 'Dossiers received and not closed (not finished, returned or withdrawn) whose due day is before today (Asia/Ho_Chi_Minh), with the days overdue as of today. waiting = status 5, 6 or 8 (waiting for the applicant, fees, or suspended): form 06 counts those as not overdue.';

-- The load audit trail, one row per load, newest first.
CREATE OR REPLACE VIEW out_quality__loads AS
SELECT
    load_id,
    source_system,
    kind,
    source,
    status,
    started_at,
    finished_at,
    date_diff('millisecond', started_at, finished_at) / 1000.0 AS duration_s,
    rows_in,
    rows_duplicate,
    rows_loaded,
    rows_quarantined,
    rows_warned,
    rows_new_versions,
    core_inserted,
    core_updated,
    rows_in = rows_duplicate + rows_loaded + rows_quarantined AS rows_balanced,
    message
FROM etl_loads
ORDER BY started_at DESC;

COMMENT ON VIEW out_quality__loads IS 'Every load with its duration and row accounting. rows_balanced checks rows_in = rows_duplicate + rows_loaded + rows_quarantined (NULL while a load runs or when it failed before counting).';

-- Why rows were quarantined, most frequent first.
CREATE OR REPLACE VIEW out_quality__quarantine_reasons AS
WITH reasons AS (
    SELECT q.load_id, unnest(q.reasons) AS reason
    FROM quarantine_onestop__dossiers q
),
parsed AS (
    SELECT
        load_id,
        reason,
        nullif(regexp_extract(reason, '^(\w+)=', 1), '') AS raw_field,
        coalesce(nullif(regexp_extract(reason, '^\w+=''.*'': (.*)$', 1), ''), reason) AS rule
    FROM reasons
)
SELECT
    raw_field,
    rule,
    count(*) AS rows,
    count(DISTINCT p.load_id) AS loads,
    min(l.started_at) AS first_seen,
    max(l.started_at) AS last_seen,
    any_value(reason) AS example
FROM parsed p
LEFT JOIN etl_loads l USING (load_id)
GROUP BY raw_field, rule
ORDER BY rows DESC, rule;

COMMENT ON VIEW out_quality__quarantine_reasons IS 'Quarantined rows counted by rule (the reason without the quoted value) and raw field, with how many loads brought them, when they were first and last seen, and one full reason as an example. A row with two reasons counts under both.';
