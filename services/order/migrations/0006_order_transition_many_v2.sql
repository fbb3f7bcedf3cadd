-- Expand only: `order_transition_many_v2` is `order_transition_many_v1` (migration 0005)
-- move for move, with its answer in one value instead of a result set built by
-- JSON_TABLE: MariaDB materialises every JSON_TABLE in a temporary table, which cost
-- about 45 µs of server CPU per call (docs/performance.md "Issue 19, continued: the
-- procedures' answers"). `order_transition_many_v1` stays for the other slot's code (a
-- contract step drops it later).
--
-- The answer is one row with one column, `answer`: a JSON array with one `[order_id,
-- changed]` per move, in the order given, sent after the COMMIT (changed as v1 answers it:
-- 1 when the order was in `from` and is now in `to`, else 0). `mall_store::batched::call`
-- reads it and checks that it names the moves given, in order.
-- Numbers are CAST: MariaDB writes a routine's variables into JSON as strings.
CREATE PROCEDURE order_transition_many_v2(
    IN p_moves LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
)
MODIFIES SQL DATA
SQL SECURITY INVOKER
BEGIN
    DECLARE v_count INT DEFAULT JSON_LENGTH(p_moves);
    DECLARE v_i INT DEFAULT 0;
    DECLARE v_move LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
    DECLARE v_id BIGINT UNSIGNED;
    DECLARE v_from VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin;
    DECLARE v_to VARCHAR(16) CHARACTER SET ascii COLLATE ascii_bin;
    DECLARE v_reason VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin;
    DECLARE v_payment_id BIGINT UNSIGNED;
    DECLARE v_at DATETIME(6);
    DECLARE v_changed INT;
    DECLARE v_answer LONGTEXT CHARACTER SET ascii COLLATE ascii_bin DEFAULT '[]';
    DECLARE EXIT HANDLER FOR SQLEXCEPTION
    BEGIN
        ROLLBACK;
        RESIGNAL;
    END;
    START TRANSACTION;
    WHILE v_i < v_count DO
        SET v_move = JSON_EXTRACT(p_moves, CONCAT('$[', v_i, ']'));
        SET v_id = JSON_VALUE(v_move, '$.order_id');
        SET v_from = JSON_VALUE(v_move, '$.from');
        SET v_to = JSON_VALUE(v_move, '$.to');
        SET v_reason = JSON_VALUE(v_move, '$.reason');
        SET v_payment_id = JSON_VALUE(v_move, '$.payment_id');
        SET v_at = JSON_VALUE(v_move, '$.at');
        IF v_id IS NULL OR v_from IS NULL OR v_to IS NULL OR v_at IS NULL THEN
            SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'a move needs order_id, from, to and at';
        END IF;
        UPDATE orders
           SET status = v_to,
               failure_reason = COALESCE(v_reason, failure_reason),
               payment_id = COALESCE(v_payment_id, payment_id),
               updated_at = v_at
         WHERE id = v_id AND status = v_from;
        SET v_changed = ROW_COUNT();
        IF v_changed = 1 THEN
            INSERT INTO order_status_history (order_id, status, at) VALUES (v_id, v_to, v_at);
        END IF;
        SET v_answer = JSON_ARRAY_APPEND(v_answer, '$',
                                         JSON_ARRAY(CAST(v_id AS UNSIGNED), CAST(v_changed AS SIGNED)));
        SET v_i = v_i + 1;
    END WHILE;
    COMMIT;
    SELECT v_answer AS answer;
END;
