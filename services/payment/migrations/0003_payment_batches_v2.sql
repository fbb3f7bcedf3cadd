-- Expand only: `payment_create_many_v2` and `payment_settle_many_v2` are migration 0002's
-- v1 procedures item for item, with their answer in one value instead of a result set
-- built by JSON_TABLE: MariaDB materialises every JSON_TABLE in a temporary table, which
-- cost about 45 µs of server CPU per call (docs/performance.md "Issue 19, continued: the
-- procedures' answers"). The v1 procedures stay for the other slot's code (a contract step
-- drops them later).
--
-- Each answer is one row with one column, `answer`: a JSON array with one entry per item,
-- in the order given, sent after the COMMIT: `[order_id, id]` for a create (id null for a
-- replay, as v1), `[id, changed]` for a settle. `mall_store::batched::call` reads it and
-- checks that it names the items given, in order.
-- Numbers are CAST: MariaDB writes a routine's variables into JSON as strings.
CREATE PROCEDURE payment_create_many_v2(
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
            JSON_ARRAY(CAST(v_order_id AS UNSIGNED), IF(v_duplicate, NULL, LAST_INSERT_ID())));
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT v_answer AS answer;
END;

CREATE PROCEDURE payment_settle_many_v2(
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
                                         JSON_ARRAY(CAST(v_id AS UNSIGNED), ROW_COUNT()));
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT v_answer AS answer;
END;
