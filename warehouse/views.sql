-- Views for analysts: the common questions, answered once. Created by warehouse/views.py in the
-- private file after every load and in the published snapshot, so `cchc sql` sees them.
-- No view exposes personal data (applicant name, identity number, phone).
-- Dates are calendar days in Asia/Ho_Chi_Minh (the core table stores them that way already).
-- Coded values are declared once, in the sources' vocabulary modules, never written here:
-- {{label <source>.<TABLE> <column>}} becomes a CASE giving each code its first (display) label,
-- {{codes <source>.<GROUP>}} the group's codes as a list for IN. warehouse/views.py expands
-- them from sources/onestop/vocabulary.py (statuses, status groups NOT_RECEIVED, FINISHED,
-- WITHDRAWN, WAITING, ...) and sources/eoffice/vocabulary.py.

-- Which dim_admin_unit row a row's unit_code means: its unit_valid_from when the transform set
-- it (the unit valid on the reception day), else the unit with that code that began last on or
-- before `day`, else the oldest with that code. Codes reused by the new communes of the
-- 1 July 2025 reform name two rows; the fallbacks serve rows written before units had validity.
CREATE OR REPLACE MACRO cchc_unit_from(code, valid_from, day) AS coalesce(
    valid_from,
    (SELECT max(f.valid_from) FROM dim_admin_unit f
     WHERE f.unit_code = code AND f.valid_from <= day),
    (SELECT min(f.valid_from) FROM dim_admin_unit f WHERE f.unit_code = code)
);

-- The life of every received dossier as form 06 counts it. One definition, used by form 06
-- (warehouse/form06.py) and the rate views, so they cannot disagree.
CREATE OR REPLACE VIEW out_onestop__dossier_lifecycle AS
WITH received AS (
    SELECT
        *,
        CASE
            WHEN status IN {{codes onestop.FINISHED}} THEN coalesce(finished_date, returned_date)
            -- a withdrawal has no finish date in many records: its last update is the withdrawal
            WHEN status IN {{codes onestop.WITHDRAWN}} THEN coalesce(
                finished_date, returned_date, (updated_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::DATE)
        END AS closed_raw
    FROM core_onestop__dossiers
    WHERE status NOT IN {{codes onestop.NOT_RECEIVED}} AND received_date IS NOT NULL
),
closed AS (
    SELECT
        *,
        -- never closed before it was received: keeps "received = resolved + in progress" exact
        CASE WHEN closed_raw IS NOT NULL THEN greatest(closed_raw, received_date) END AS closed_date
    FROM received
)
SELECT
    dossier_code, unit_code,
    cchc_unit_from(unit_code, unit_valid_from, received_date) AS unit_valid_from,
    procedure_code, field_code, field_name, service_level, channel,
    status, received_date, due_date, closed_date,
    CASE
        WHEN closed_date IS NULL THEN NULL
        WHEN status IN {{codes onestop.WITHDRAWN}} THEN 'withdrawn'
        WHEN due_date IS NULL THEN 'no_due_date'
        WHEN closed_date < due_date THEN 'before_due'
        WHEN closed_date = due_date THEN 'on_due'
        ELSE 'after_due'
    END AS closed_timeliness,
    status IN {{codes onestop.WAITING}} AS waiting,
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
    {{label onestop.SERVICE_LEVEL_LABELS d.service_level}} AS service_level_label,
    d.channel,
    {{label onestop.CHANNEL_LABELS d.channel}} AS channel_label,
    d.applicant_type,
    {{label onestop.APPLICANT_LABELS d.applicant_type}} AS applicant_type_label,
    d.status,
    {{label onestop.STATUS_LABELS d.status}} AS status_label,
    d.received_date,
    d.due_date,
    d.finished_date,
    d.returned_date,
    d.received_at,
    d.due_at,
    d.finished_at,
    d.returned_at,
    d.timeliness,
    -- working days after the reception day up to and including the finish / due day
    -- (dim_calendar; docs/figures.md "Working days"): same day = 0
    c_fin.working_day_number - c_recv.working_day_number AS working_days_taken,
    c_due.working_day_number - c_recv.working_day_number AS working_days_allowed,
    d.statutory_days,
    d.statutory_due_date,
    d.due_date_check,
    d.digitisation,
    {{label onestop.DIGITISATION_LABELS d.digitisation}} AS digitisation_label,
    d.electronic_result,
    d.paid_online,
    d.rating,
    {{label onestop.RATING_LABELS d.rating}} AS rating_label,
    d.updated_at,
    d.dq_warnings,
    d.load_id
FROM core_onestop__dossiers d
LEFT JOIN dim_admin_unit u ON u.unit_code = d.unit_code
    AND u.valid_from = cchc_unit_from(d.unit_code, d.unit_valid_from, d.received_date)
LEFT JOIN dim_calendar c_recv ON c_recv.date = d.received_date
LEFT JOIN dim_calendar c_fin ON c_fin.date = d.finished_date
LEFT JOIN dim_calendar c_due ON c_due.date = d.due_date;

COMMENT ON VIEW out_onestop__dossiers IS 'One row per dossier in its newest known state, with Vietnamese labels for level, channel, applicant type, status, digitisation and rating, and the unit name from dim_admin_unit. Personal data (applicant name, identity number, phone) is left out. working_days_taken (to finished_date) and working_days_allowed (to due_date) count the working days of dim_calendar after the reception day up to and including the later day (received and finished the same day: 0). statutory_days is the procedure''s handling time in dim_procedure, statutory_due_date the day it gives counted from the first working day on or after reception, due_date_check whether due_date matches it (matches, later, earlier); timeliness always follows due_date.';

-- Monthly rates per unit (Decision 766/QĐ-TTg indicators).
CREATE OR REPLACE VIEW out_onestop__rates_by_unit_month AS
WITH received AS (
    SELECT
        unit_code, unit_valid_from,
        date_trunc('month', received_date)::DATE AS month,
        count(*) AS received,
        count(*) FILTER (channel IN {{codes onestop.ONLINE_CHANNELS}}) AS received_online,
        count(*) FILTER ((channel IN {{codes onestop.ONLINE_CHANNELS}}) IS NOT TRUE)
            AS received_counter_postal,
        count(*) FILTER (digitisation IN {{codes onestop.DIGITISED}}) AS digitised,
        count(*) FILTER (paid_online) AS paid_online,
        count(*) FILTER (rating IS NOT NULL) AS rated,
        count(*) FILTER (rating IN {{codes onestop.SATISFIED}}) AS satisfied
    FROM out_onestop__dossier_lifecycle
    GROUP BY ALL
),
resolved AS (
    SELECT
        unit_code, unit_valid_from,
        date_trunc('month', closed_date)::DATE AS month,
        count(*) AS resolved,
        count(*) FILTER (closed_timeliness = 'before_due') AS resolved_before_due,
        count(*) FILTER (closed_timeliness IN ('on_due', 'no_due_date', 'withdrawn'))
            AS resolved_on_due,
        count(*) FILTER (closed_timeliness = 'after_due') AS resolved_late,
        count(*) FILTER (closed_timeliness = 'no_due_date') AS resolved_no_due_date,
        count(*) FILTER (closed_timeliness = 'withdrawn') AS withdrawn,
        count(*) FILTER (status IN {{codes onestop.FINISHED}}) AS finished,
        count(*) FILTER (status IN {{codes onestop.FINISHED}} AND electronic_result)
            AS electronic_results
    FROM out_onestop__dossier_lifecycle
    WHERE closed_date IS NOT NULL
    GROUP BY ALL
)
SELECT
    unit_code,
    unit_valid_from,
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
FULL OUTER JOIN resolved USING (unit_code, unit_valid_from, month)
LEFT JOIN dim_admin_unit u ON u.unit_code = unit_code AND u.valid_from = unit_valid_from
ORDER BY unit_code, unit_valid_from, month;

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
LEFT JOIN dim_admin_unit u ON u.unit_code = l.unit_code AND u.valid_from = l.unit_valid_from
WHERE l.closed_date IS NULL
  AND l.due_date < (current_timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')::DATE
ORDER BY days_overdue DESC, l.dossier_code;

COMMENT ON VIEW out_onestop__overdue_open IS 'Dossiers received and not closed (not finished, returned or withdrawn) whose due day is before today (Asia/Ho_Chi_Minh), with the days overdue as of today. waiting = status 5, 6 or 8 (waiting for the applicant, fees, or suspended): form 06 counts those as not overdue.';

-- Raw text of a date as a UTC instant (TIMESTAMP), read the way transforms/dates.py reads it:
-- 'Z' or an offset is an instant; naive text is local time (+07, no DST since 1975); a 5-digit
-- number is an Excel serial day. Used on the raw layer, which keeps dates as the source gave them.
CREATE OR REPLACE MACRO cchc_instant(t) AS (
    coalesce(
        try_strptime(trim(t), ['%Y-%m-%dT%H:%M:%SZ', '%Y-%m-%dT%H:%M:%S.%fZ']),
        timezone('UTC', try_strptime(trim(t), ['%Y-%m-%dT%H:%M:%S%z', '%Y-%m-%dT%H:%M:%S.%f%z',
                                               '%Y-%m-%d %H:%M:%S%z', '%Y-%m-%d %H:%M:%S.%f%z'])),
        try_strptime(trim(t), ['%d/%m/%Y %H:%M', '%d/%m/%Y %H:%M:%S', '%Y-%m-%dT%H:%M:%S',
                               '%Y-%m-%d %H:%M:%S', '%d/%m/%Y', '%Y-%m-%dT%H:%M:%S.%f',
                               '%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%dT%H:%M', '%Y-%m-%d %H:%M',
                               '%Y-%m-%d', '%d-%m-%Y %H:%M', '%d-%m-%Y %H:%M:%S', '%d-%m-%Y'])
            - INTERVAL 7 HOUR,
        CASE WHEN regexp_full_match(trim(t), '\d{5}(\.\d+)?')
                  AND TRY_CAST(trim(t) AS DOUBLE) >= 18264 AND TRY_CAST(trim(t) AS DOUBLE) < 73051
             THEN TIMESTAMP '1899-12-30'
                  + to_milliseconds(round(TRY_CAST(trim(t) AS DOUBLE) * 86400000)::BIGINT)
                  - INTERVAL 7 HOUR
        END
    )
);

-- Dossiers whose due date (NgayHenTra) changed after reception, from every version the raw
-- layer keeps. A due date moved later after reception can hide lateness (docs/figures.md).
CREATE OR REPLACE VIEW out_onestop__moved_due_dates AS
WITH versions AS (
    SELECT
        -- the dossier code as core spells it: no spaces or invisible characters, '-' for dash
        -- look-alikes, upper case
        upper(regexp_replace(regexp_replace(nfc_normalize(MaHoSo),
            '[\s\x{200B}-\x{200D}\x{2060}\x{FEFF}]', '', 'g'), '[\x{2010}-\x{2015}\x{2212}]', '-', 'g'))
            AS dossier_code,
        cchc_instant(NgayCapNhat) AS version_at,
        (cchc_instant(NgayHenTra) + INTERVAL 7 HOUR)::DATE AS due_date,
        row_hash,
        load_id
    FROM raw_onestop__dossier_versions
    WHERE cchc_instant(NgayTiepNhan) IS NOT NULL
),
steps AS (
    SELECT
        *,
        lag(due_date) OVER w AS previous_due,
        row_number() OVER w AS version_no
    FROM versions
    WHERE due_date IS NOT NULL AND version_at IS NOT NULL
    WINDOW w AS (PARTITION BY dossier_code ORDER BY version_at, row_hash)
),
per_dossier AS (
    SELECT
        dossier_code,
        arg_min(due_date, version_no) AS first_due_date,
        count(*) FILTER (due_date <> previous_due) AS times_moved,
        count(*) FILTER (due_date > previous_due) AS times_moved_later,
        min(version_at) FILTER (due_date <> previous_due) AS first_moved_at,
        count(*) AS versions
    FROM steps
    GROUP BY dossier_code
)
SELECT
    p.dossier_code,
    d.unit_code,
    u.name AS unit_name,
    d.procedure_code,
    d.status,
    d.received_date,
    p.first_due_date,
    d.due_date AS current_due_date,
    d.due_date - p.first_due_date AS days_moved,
    p.times_moved,
    p.times_moved_later,
    d.due_date > p.first_due_date AS moved_later,
    timezone('UTC', p.first_moved_at) AS first_moved_at,
    p.versions,
    l.closed_date,
    l.closed_timeliness,
    l.closed_date > p.first_due_date AS late_by_first_due,
    coalesce(l.closed_timeliness IN ('before_due', 'on_due') AND l.closed_date > p.first_due_date,
             FALSE) AS on_time_only_by_moved_due
FROM per_dossier p
JOIN core_onestop__dossiers d USING (dossier_code)
LEFT JOIN out_onestop__dossier_lifecycle l USING (dossier_code)
LEFT JOIN dim_admin_unit u ON u.unit_code = d.unit_code
    AND u.valid_from = cchc_unit_from(d.unit_code, d.unit_valid_from, d.received_date)
WHERE p.times_moved > 0
ORDER BY p.dossier_code;

COMMENT ON VIEW out_onestop__moved_due_dates IS 'One row per dossier whose due date (NgayHenTra, as a calendar day in Asia/Ho_Chi_Minh) changed between the versions received after reception that the raw layer keeps: first_due_date is the due date of the earliest such version (by NgayCapNhat), current_due_date the core row''s, days_moved = current - first (positive: later), times_moved how often it changed from one version to the next (times_moved_later: to a later day), first_moved_at the version that first changed it. late_by_first_due: closed after the first promised day; on_time_only_by_moved_due: counted on time (before or on the due day) only because the due date moved. Versions with no readable due date are skipped. `cchc report form06 --due original` counts timeliness against first_due_date.';

-- E-documents (incoming and outgoing registers) with Vietnamese labels.
-- Labels and the electronic transport codes come from sources/eoffice/vocabulary.py.
CREATE OR REPLACE VIEW out_eoffice__documents AS
SELECT
    d.document_id,
    d.direction,
    {{label eoffice.DIRECTION_LABELS d.direction}} AS direction_label,
    d.unit_code,
    u.name AS unit_name,
    d.body_unit_id,
    d.body_name,
    d.unit_code_source,
    CASE d.direction WHEN 'DEN' THEN d.incoming_number WHEN 'DI' THEN d.outgoing_number END
        AS register_number,
    d.incoming_number,
    d.outgoing_number,
    d.register_year,
    d.register_number_repeated,
    d.notation,
    d.document_type,
    d.issued_date,
    d.received_date,
    d.issuing_body,
    d.summary,
    d.secrecy,
    {{label eoffice.SECRECY_LABELS d.secrecy}} AS secrecy_label,
    d.urgency,
    {{label eoffice.URGENCY_LABELS d.urgency}} AS urgency_label,
    d.assigned_unit,
    d.deadline_date,
    d.completed_date,
    d.completed_date - d.received_date AS handling_days,
    d.status,
    {{label eoffice.STATUS_LABELS d.status}} AS status_label,
    d.transport,
    {{label eoffice.TRANSPORT_LABELS d.transport}} AS transport_label,
    d.transport IN {{codes eoffice.ELECTRONIC_CODES}} AS electronic,
    d.digitally_signed,
    d.linked_dossier_code,
    d.secret_leak_dropped,
    d.updated_at,
    d.dq_warnings,
    d.load_id
FROM core_eoffice__documents d
LEFT JOIN dim_admin_unit u ON u.unit_code = d.unit_code AND u.valid_from = cchc_unit_from(
    d.unit_code, d.unit_valid_from, coalesce(d.received_date, d.issued_date));

COMMENT ON VIEW out_eoffice__documents IS 'One row per official document (incoming DEN / outgoing DI) in its newest known state, with Vietnamese labels for direction, secrecy, urgency, handling status and transport (from sources/eoffice/vocabulary.py), the register holder''s name from dim_admin_unit, register_number (số đến for incoming, số văn bản for outgoing), handling_days = completed_date - received_date, and electronic = transport DienTu or CaHai. The signer (personal data) is left out; secret documents carry no summary or issuing body.';

-- The e-document report of docs/figures.md §5 per unit and calendar month, each month taken as its
-- own period (to = the month's last day). Same rules as warehouse/documents_report.py.
CREATE OR REPLACE VIEW out_eoffice__rates_by_unit_month AS
WITH docs AS (
    SELECT
        unit_code, direction, transport, deadline_date, completed_date, digitally_signed,
        cchc_unit_from(unit_code, unit_valid_from, coalesce(received_date, issued_date))
            AS unit_valid_from,
        date_trunc('month', CASE direction WHEN 'DEN' THEN received_date
                                           WHEN 'DI' THEN issued_date END)::DATE AS month
    FROM core_eoffice__documents
),
counts AS (
    SELECT
        unit_code,
        unit_valid_from,
        month,
        count(*) FILTER (direction = 'DEN') AS received,
        count(*) FILTER (direction = 'DEN' AND transport IN {{codes eoffice.ELECTRONIC_CODES}})
            AS received_electronic,
        count(*) FILTER (direction = 'DEN' AND deadline_date IS NOT NULL) AS with_deadline,
        count(*) FILTER (direction = 'DEN' AND completed_date <= deadline_date
                         AND completed_date <= last_day(month)) AS completed_on_time,
        count(*) FILTER (direction = 'DEN' AND deadline_date < completed_date
                         AND completed_date <= last_day(month)) AS completed_late,
        count(*) FILTER (direction = 'DEN'
                         AND (completed_date IS NULL OR completed_date > last_day(month))
                         AND deadline_date < last_day(month)) AS open_overdue,
        count(*) FILTER (direction = 'DEN'
                         AND (completed_date IS NULL OR completed_date > last_day(month))
                         AND deadline_date >= last_day(month)) AS open_within_deadline,
        count(*) FILTER (direction = 'DI') AS issued,
        count(*) FILTER (direction = 'DI' AND transport IN {{codes eoffice.ELECTRONIC_CODES}})
            AS issued_electronic,
        count(*) FILTER (direction = 'DI' AND digitally_signed) AS issued_signed
    FROM docs
    WHERE month IS NOT NULL
    GROUP BY unit_code, unit_valid_from, month
)
SELECT
    c.unit_code,
    c.unit_valid_from,
    u.name AS unit_name,
    c.month,
    received, received_electronic, with_deadline, completed_on_time, completed_late,
    open_overdue, open_within_deadline, issued, issued_electronic, issued_signed,
    round((received_electronic + issued_electronic) / nullif(received + issued, 0), 4)
        AS electronic_rate,
    round(issued_signed / nullif(issued, 0), 4) AS signed_rate,
    round(completed_on_time / nullif(completed_on_time + completed_late, 0), 4) AS on_time_rate
FROM counts c
LEFT JOIN dim_admin_unit u ON u.unit_code = c.unit_code AND u.valid_from = c.unit_valid_from
ORDER BY c.unit_code, c.unit_valid_from, c.month;

COMMENT ON VIEW out_eoffice__rates_by_unit_month IS 'Per register holder and calendar month, the e-document report (docs/figures.md §5) with the month as its own period, judged at the month''s last day: received (3, NgayDen in the month), received_electronic (4, DienTu or CaHai), with_deadline (5), completed_on_time (6, completed on or before the deadline and by the month end), completed_late (7), open_overdue (8, not completed by the month end, deadline before it), open_within_deadline (9, deadline on or after the month end), issued (10, NgayBanHanh in the month), issued_electronic (11), issued_signed (12). with_deadline = 6 + 7 + 8 + 9. electronic_rate = (4 + 11) / (3 + 10); signed_rate = 12 / 10; on_time_rate = 6 / (6 + 7). The current month is provisional. Incoming documents received earlier and still open are in no month''s columns.';

-- Register numbers used twice: (body, year, direction, number) must be unique (Decree 30/2020).
CREATE OR REPLACE VIEW out_eoffice__repeated_register_numbers AS
WITH numbered AS (
    SELECT
        *,
        CASE direction WHEN 'DEN' THEN incoming_number WHEN 'DI' THEN outgoing_number END
            AS register_number
    FROM core_eoffice__documents
),
repeated AS (
    SELECT
        *,
        count(*) OVER (PARTITION BY unit_code, register_year, direction, register_number)
            AS documents_sharing
    FROM numbered
    WHERE register_number IS NOT NULL AND register_year IS NOT NULL AND unit_code IS NOT NULL
)
SELECT
    r.unit_code,
    u.name AS unit_name,
    r.register_year,
    r.direction,
    {{label eoffice.DIRECTION_LABELS r.direction}} AS direction_label,
    r.register_number,
    r.documents_sharing,
    r.document_id,
    r.notation,
    r.document_type,
    r.issued_date,
    r.received_date,
    r.body_name,
    r.updated_at,
    r.load_id
FROM repeated r
LEFT JOIN dim_admin_unit u ON u.unit_code = r.unit_code AND u.valid_from = cchc_unit_from(
    r.unit_code, r.unit_valid_from, coalesce(r.received_date, r.issued_date))
WHERE r.documents_sharing > 1
ORDER BY r.unit_code, r.register_year, r.direction, r.register_number, r.document_id;

COMMENT ON VIEW out_eoffice__repeated_register_numbers IS 'Documents whose register number is used by another document of the same body, year and direction anywhere in the warehouse (across loads, not only within a batch as register_number_repeated says): one row per document, documents_sharing = how many share the number. register_number is SoDen for incoming (DEN), SoVanBan for outgoing (DI); the year is that of NgayDen or NgayBanHanh.';

-- Dossiers and the documents that carry their result (MaHoSoLienKet).
CREATE OR REPLACE VIEW out_onestop__dossier_result_documents AS
SELECT
    ds.dossier_code,
    ds.unit_code,
    u.name AS unit_name,
    ds.procedure_code,
    ds.procedure_name,
    ds.status,
    ds.finished_date,
    ds.returned_date,
    doc.document_id,
    doc.direction,
    doc.unit_code AS document_unit_code,
    CASE doc.direction WHEN 'DEN' THEN doc.incoming_number WHEN 'DI' THEN doc.outgoing_number END
        AS register_number,
    doc.notation,
    doc.document_type,
    doc.issued_date,
    doc.issued_date - ds.finished_date AS days_finish_to_issue,
    doc.transport,
    {{label eoffice.TRANSPORT_LABELS doc.transport}} AS transport_label,
    doc.transport IN {{codes eoffice.ELECTRONIC_CODES}} AS electronic,
    doc.digitally_signed
FROM core_onestop__dossiers ds
JOIN core_eoffice__documents doc ON doc.linked_dossier_code = ds.dossier_code
LEFT JOIN dim_admin_unit u ON u.unit_code = ds.unit_code
    AND u.valid_from = cchc_unit_from(ds.unit_code, ds.unit_valid_from, ds.received_date)
ORDER BY ds.dossier_code, doc.issued_date, doc.document_id;

COMMENT ON VIEW out_onestop__dossier_result_documents IS 'One row per dossier and document that carries its result (core_eoffice__documents.linked_dossier_code = dossier_code): the dossier''s unit, procedure, status, finish and return days; the document''s register number, number and notation, issue date, days from the dossier''s finish to the issue, transport (label, electronic) and digital signature. Dossiers without such a document are not listed; no personal data.';

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

-- Service-index indicators (Decision 766/QĐ-TTg; docs/figures.md §6) per unit and calendar month,
-- each month taken as its own form-06 period (from = its first day, to = its last day). The
-- same rules as warehouse/indicators.py, which computes them for any period (and by unit over
-- a whole period); the national targets are applied there (warehouse/targets.py), not here.
CREATE OR REPLACE VIEW out_onestop__indicators_by_unit_month AS
WITH bounds AS (
    SELECT
        min(received_date) AS first_received,
        max(greatest(received_date, coalesce(closed_date, received_date))) AS last_event
    FROM out_onestop__dossier_lifecycle
),
months AS (
    SELECT m::DATE AS month, last_day(m::DATE) AS month_end
    FROM bounds,
         generate_series(date_trunc('month', bounds.first_received)::TIMESTAMP,
                         date_trunc('month', bounds.last_event)::TIMESTAMP,
                         INTERVAL 1 MONTH) AS t(m)
),
scoped AS (
    SELECT m.month, m.month_end, l.*
    FROM months m
    JOIN out_onestop__dossier_lifecycle l
      ON l.received_date <= m.month_end
     AND (l.closed_date IS NULL OR l.closed_date >= m.month)
),
dossiers AS (
    SELECT
        unit_code, unit_valid_from, month,
    {{dossier_counts index month month_end}}
    FROM scoped
    GROUP BY unit_code, unit_valid_from, month
),
-- (unit, procedure) pairs offered online: a dossier at level 3 or 4 received by then.
offered AS (
    SELECT unit_code, unit_valid_from, procedure_code, min(received_date) AS offered_from
    FROM out_onestop__dossier_lifecycle
    WHERE service_level IN {{codes onestop.ONLINE_LEVELS}} AND procedure_code IS NOT NULL
    GROUP BY unit_code, unit_valid_from, procedure_code
),
used_online AS (
    SELECT DISTINCT unit_code, unit_valid_from, date_trunc('month', received_date)::DATE AS month,
                    procedure_code
    FROM out_onestop__dossier_lifecycle
    WHERE channel IN {{codes onestop.ONLINE_CHANNELS}}
),
uptake AS (
    SELECT
        m.month, o.unit_code, o.unit_valid_from,
        count(*) AS procedures_offered_online,
        count(u.procedure_code) AS procedures_with_online
    FROM months m
    JOIN offered o ON o.offered_from <= m.month_end
    LEFT JOIN used_online u
      ON u.month = m.month AND u.unit_code = o.unit_code
     AND u.unit_valid_from = o.unit_valid_from AND u.procedure_code = o.procedure_code
    GROUP BY m.month, o.unit_code, o.unit_valid_from
),
counts AS (
    SELECT
        unit_code, unit_valid_from, month,
        coalesce(c3, 0) AS c3, coalesce(c4, 0) AS c4, coalesce(c5, 0) AS c5,
        coalesce(c6, 0) AS c6, coalesce(c7, 0) AS c7, coalesce(c8, 0) AS c8,
        coalesce(c9, 0) AS c9, coalesce(c10, 0) AS c10, coalesce(c11, 0) AS c11,
        coalesce(c12, 0) AS c12, coalesce(c13, 0) AS c13,
        coalesce(no_due_date, 0) AS no_due_date, coalesce(withdrawn, 0) AS withdrawn,
        coalesce(received, 0) AS received, coalesce(digitised, 0) AS digitised,
        coalesce(paid_online, 0) AS paid_online, coalesce(finished, 0) AS finished,
        coalesce(electronic_results, 0) AS electronic_results,
        coalesce(rated, 0) AS rated, coalesce(satisfied, 0) AS satisfied,
        coalesce(procedures_offered_online, 0) AS procedures_offered_online,
        coalesce(procedures_with_online, 0) AS procedures_with_online
    FROM dossiers
    FULL OUTER JOIN uptake USING (unit_code, unit_valid_from, month)
)
SELECT
    c.unit_code,
    c.unit_valid_from,
    u.name AS unit_name,
    u.level,
    c.month,
    c.* EXCLUDE (unit_code, unit_valid_from, month),
    c8 + c9 AS on_time_numerator,
    c7 AS on_time_denominator,
    round((c8 + c9) / nullif(c7, 0), 4) AS on_time_rate,
    c8 + c9 + c12 AS progress_numerator,
    c3 AS progress_denominator,
    round((c8 + c9 + c12) / nullif(c3, 0), 4) AS progress_rate,
    c4 AS online_numerator,
    c4 + c5 AS online_denominator,
    round(c4 / nullif(c4 + c5, 0), 4) AS online_rate,
    procedures_with_online AS online_uptake_numerator,
    procedures_offered_online AS online_uptake_denominator,
    round(procedures_with_online / nullif(procedures_offered_online, 0), 4) AS online_uptake_rate,
    digitised AS digitised_numerator,
    received AS digitised_denominator,
    round(digitised / nullif(received, 0), 4) AS digitised_rate,
    electronic_results AS electronic_result_numerator,
    finished AS electronic_result_denominator,
    round(electronic_results / nullif(finished, 0), 4) AS electronic_result_rate,
    paid_online AS online_payment_numerator,
    received AS online_payment_denominator,
    round(paid_online / nullif(received, 0), 4) AS online_payment_rate,
    satisfied AS satisfaction_numerator,
    rated AS satisfaction_denominator,
    round(satisfied / nullif(rated, 0), 4) AS satisfaction_rate
FROM counts c
LEFT JOIN dim_admin_unit u ON u.unit_code = c.unit_code AND u.valid_from = c.unit_valid_from
ORDER BY c.unit_code, c.unit_valid_from, c.month;

COMMENT ON VIEW out_onestop__indicators_by_unit_month IS 'Service-index indicators (Decision 766/QĐ-TTg) per unit and calendar month, each month its own form-06 period judged at its last day (the current month is provisional): c3 … c13 equal form 06 for that month (warehouse/form06.py). received = c4 + c5; digitised (TrangThaiSoHoa 1, 2, 3), paid_online: of received; finished: resolved in the month with a result (status 9, 10), electronic_results of them; rated: resolved in the month with a rating, satisfied (very satisfied or satisfied) of them; procedures_offered_online: procedures of which the unit had received a dossier at level 3 or 4 by the month end, procedures_with_online: of them, those with a dossier received online in the month. Each rate has its numerator and denominator beside it: on_time (c8+c9)/c7, progress (c8+c9+c12)/c3, online c4/(c4+c5), online_uptake, digitised, electronic_result, online_payment, satisfaction; null on a zero denominator. Targets: warehouse/targets.py (applied by cchc report indicators).';

-- The e-document rates of the service index per unit and month (from out_eoffice__rates_by_unit_month),
-- with numerators, denominators and the unit's level (the target depends on it).
CREATE OR REPLACE VIEW out_eoffice__indicators_by_unit_month AS
SELECT
    r.unit_code,
    r.unit_valid_from,
    r.unit_name,
    u.level,
    r.month,
    r.received AS docs_received,
    r.received_electronic AS docs_received_electronic,
    r.issued AS docs_issued,
    r.issued_electronic AS docs_issued_electronic,
    r.issued_signed AS docs_issued_signed,
    r.received_electronic + r.issued_electronic AS edoc_electronic_numerator,
    r.received + r.issued AS edoc_electronic_denominator,
    r.electronic_rate AS edoc_electronic_rate,
    r.issued_signed AS edoc_signed_numerator,
    r.issued AS edoc_signed_denominator,
    r.signed_rate AS edoc_signed_rate
FROM out_eoffice__rates_by_unit_month r
LEFT JOIN dim_admin_unit u ON u.unit_code = r.unit_code AND u.valid_from = r.unit_valid_from
ORDER BY r.unit_code, r.unit_valid_from, r.month;

COMMENT ON VIEW out_eoffice__indicators_by_unit_month IS 'The e-document rates of the service index per register holder and calendar month, as the e-document report defines them (docs/figures.md §5): edoc_electronic = (incoming + outgoing exchanged electronically, DienTu or CaHai) / (incoming received + outgoing issued); edoc_signed = outgoing digitally signed / outgoing issued; numerators and denominators beside each rate, and the unit level (national target: 80 % for the district, 60 % for communes, warehouse/targets.py).';
