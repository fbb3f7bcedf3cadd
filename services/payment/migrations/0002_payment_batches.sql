-- Expand only: the two writes of every charge, batched across concurrent charges (one
-- round trip and one commit for all the charges that reach the step while the last batch
-- runs: docs/checkout.md "The steps"). Each does for each payment exactly what the single
-- statement in storage/mod.rs does, which it stays beside (the other slot's code, and the
-- moves off the checkout path, use it). A payment's transitions are still Rust's: the
-- statuses are the caller's parameters, from `PaymentStatus` (never literals here).
--
-- Both: one transaction, in the order given; any error rolls everything back and is
-- re-raised unchanged; timestamps are the caller's (each item's own); SQL SECURITY INVOKER; the answer is one
-- result set, a row per item in the order given, sent after the COMMIT.

-- New `p_status` (pending) payments, `p_rows` a JSON array of
-- `{"order_id", "user_id", "amount", "currency", "at"}` (at: created_at and updated_at). An order that has a payment already
-- (the unique key, 1062: a replay) is skipped and answered with id NULL; the caller reads
-- the existing one. Answer: order_id, id.
CREATE PROCEDURE payment_create_many_v1(
    IN p_rows LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    IN p_status VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin
)
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
    DECLARE v_count INT DEFAULT JSON_LENGTH(p_rows);
    DECLARE v_i INT DEFAULT 0;
    DECLARE v_row LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    DECLARE v_order_id BIGINT UNSIGNED;
    DECLARE v_at DATETIME(6);
    DECLARE v_duplicate BOOLEAN DEFAULT FALSE;
    DECLARE v_answer LONGTEXT CHARACTER SET ascii COLLATE ascii_bin DEFAULT '[]';
    DECLARE CONTINUE HANDLER FOR 1062 SET v_duplicate = TRUE;
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;
    START TRANSACTION;
    WHILE v_i < v_count DO
        SET v_row = JSON_EXTRACT(p_rows, CONCAT('$[', v_i, ']'));
        SET v_order_id = JSON_VALUE(v_row, '$.order_id');
        SET v_at = JSON_VALUE(v_row, '$.at');
        SET v_duplicate = FALSE;
        INSERT INTO payments (order_id, user_id, amount, currency, status, created_at,
                              updated_at)
        VALUES (v_order_id, JSON_VALUE(v_row, '$.user_id'), JSON_VALUE(v_row, '$.amount'),
                JSON_VALUE(v_row, '$.currency'), p_status, v_at, v_at);
        SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
            JSON_OBJECT('order_id', v_order_id,
                        'id', IF(v_duplicate, NULL, LAST_INSERT_ID())));
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT j.order_id, j.id
      FROM JSON_TABLE(v_answer, '$[*]' COLUMNS (
               n FOR ORDINALITY,
               order_id BIGINT UNSIGNED PATH '$.order_id',
               id BIGINT UNSIGNED PATH '$.id'
           )) AS j
     ORDER BY j.n;
END;

-- Settles, `p_moves` a JSON array of `{"id", "from", "to", "charge_id", "at"}`: each is
-- `UPDATE payments SET status = to, gateway_charge_id = charge_id, updated_at = at WHERE
-- id = id AND status = from`. Answer: id, changed (1 when it moved the payment, else 0 and
-- nothing was written for it).
CREATE PROCEDURE payment_settle_many_v1(
    IN p_moves LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
)
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
    DECLARE v_count INT DEFAULT JSON_LENGTH(p_moves);
    DECLARE v_i INT DEFAULT 0;
    DECLARE v_move LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    DECLARE v_id BIGINT UNSIGNED;
    DECLARE v_answer LONGTEXT CHARACTER SET ascii COLLATE ascii_bin DEFAULT '[]';
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;
    START TRANSACTION;
    WHILE v_i < v_count DO
        SET v_move = JSON_EXTRACT(p_moves, CONCAT('$[', v_i, ']'));
        SET v_id = JSON_VALUE(v_move, '$.id');
        UPDATE payments
           SET status = JSON_VALUE(v_move, '$.to'),
               gateway_charge_id = JSON_VALUE(v_move, '$.charge_id'),
               updated_at = JSON_VALUE(v_move, '$.at')
         WHERE id = v_id AND status = JSON_VALUE(v_move, '$.from');
        SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
                                         JSON_OBJECT('id', v_id, 'changed', ROW_COUNT()));
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT j.id, j.changed
      FROM JSON_TABLE(v_answer, '$[*]' COLUMNS (
               n FOR ORDINALITY,
               id BIGINT UNSIGNED PATH '$.id',
               changed INT PATH '$.changed'
           )) AS j
     ORDER BY j.n;
END;
