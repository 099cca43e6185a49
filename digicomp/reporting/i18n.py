"""Interface text of the terminal test and the reports, in Vietnamese and English.

Framework and bank texts come from their YAML files; only the words around them live here.
"""

from __future__ import annotations

LANGUAGES = ("vi", "en")

_TEXT: dict[str, dict[str, str]] = {
    # the terminal test
    "title": {"vi": "Bài đánh giá năng lực số", "en": "Digital competence test"},
    "bank": {"vi": "Ngân hàng câu hỏi", "en": "Item bank"},
    "provisional": {
        "vi": "Lưu ý: tham số câu hỏi hiện là tạm thời (do chuyên gia ước định, chưa hiệu chuẩn bằng dữ liệu "
        "thật), nên kết quả chỉ mang tính tham khảo.",
        "en": "Note: the item parameters are provisional (set by experts, not yet calibrated on real data), "
        "so the result is indicative only.",
    },
    "intro": {
        "vi": "Mỗi lần một câu hỏi; câu hỏi tiếp theo được chọn theo các câu trả lời trước đó. Gõ số thứ tự "
        "của phương án rồi nhấn Enter. Gõ q để tạm dừng.",
        "en": "One question at a time; each next question is chosen from your previous answers. Type the "
        "number of your answer and press Enter. Type q to pause.",
    },
    "saving_to": {
        "vi": "Bài làm được lưu sau mỗi câu vào {path}.",
        "en": "Your progress is saved after every answer to {path}.",
    },
    "resuming": {
        "vi": "Tiếp tục bài làm đã lưu trong {path}: đã trả lời {n} câu.",
        "en": "Resuming the test saved in {path}: {n} questions answered.",
    },
    "already_done": {
        "vi": "Bài làm trong {path} đã hoàn thành; kết quả như sau (dùng --restart để làm lại).",
        "en": "The test in {path} is already finished; here is its result (use --restart to start again).",
    },
    "question": {"vi": "Câu {n}", "en": "Question {n}"},
    "prompt": {"vi": "Chọn phương án (1–{k}): ", "en": "Your answer (1–{k}): "},
    "bad_key": {
        "vi": "Chưa hợp lệ: hãy gõ một số từ 1 đến {k} (hoặc q để tạm dừng).",
        "en": "Not valid: type a number from 1 to {k} (or q to pause).",
    },
    "paused": {
        "vi": "Đã tạm dừng. Bài làm được giữ trong {path}; chạy lại cùng lệnh để làm tiếp.",
        "en": "Paused. Your progress is kept in {path}; run the same command again to continue.",
    },
    "paused_no_state": {
        "vi": "Đã dừng. Không có tệp lưu (--state) nên bài làm này không thể làm tiếp.",
        "en": "Stopped. No state file (--state) was given, so this test cannot be resumed.",
    },
    "input_closed": {
        "vi": "Đầu vào đã đóng trước khi làm xong bài.",
        "en": "Input closed before the test was finished.",
    },
    "result_written": {"vi": "Đã ghi kết quả vào {path}.", "en": "Result written to {path}."},
    # results
    "result": {"vi": "KẾT QUẢ", "en": "RESULT"},
    "overall": {"vi": "Trình độ chung", "en": "Overall level"},
    "certainty": {"vi": "xác suất {p}", "en": "probability {p}"},
    "theta_line": {
        "vi": "Năng lực ước lượng θ = {theta} (sai số chuẩn {se}), sau {n} câu hỏi; dừng vì: {why}.",
        "en": "Estimated ability θ = {theta} (standard error {se}) after {n} questions; stopped: {why}.",
    },
    "by_area": {"vi": "Theo lĩnh vực", "en": "By area"},
    "area_items": {"vi": "{n} câu", "en": "{n} items"},
    "imprecise": {"vi": "ít câu, chỉ mang tính gợi ý", "en": "few items, indicative only"},
    "work_on": {"vi": "Năng lực nên bồi dưỡng thêm (yếu nhất trước)", "en": "Competences to work on (weakest first)"},
    "work_on_none": {
        "vi": "Không có năng lực nào dưới mức của bậc tiếp theo trong các câu đã làm.",
        "en": "No assessed competence is below the next level's bar.",
    },
    "answers": {"vi": "Các câu đã trả lời", "en": "Questions answered"},
    "right": {"vi": "đúng", "en": "right"},
    "wrong": {"vi": "sai", "en": "wrong"},
    "theta_path": {"vi": "Đường đi của θ̂", "en": "θ̂ path"},
    "person": {"vi": "Người làm bài", "en": "Test taker"},
    "level": {"vi": "Bậc", "en": "Level"},
    "area": {"vi": "Lĩnh vực", "en": "Area"},
    "no_plots": {
        "vi": 'Không có biểu đồ: cài gói tùy chọn bằng  pip install "digicomp[plot]".',
        "en": 'No plots: install the optional extra with  pip install "digicomp[plot]".',
    },
    # stop reasons
    "stop_se": {"vi": "đã đủ chính xác", "en": "precise enough"},
    "stop_classification": {"vi": "đã xác định chắc chắn bậc", "en": "level determined with confidence"},
    "stop_ci": {"vi": "khoảng tin cậy đã nằm gọn trong một bậc", "en": "confidence interval within one level"},
    "stop_sprt": {"vi": "kiểm định tuần tự đã kết luận", "en": "sequential test decided"},
    "stop_min_info": {"vi": "không còn câu hỏi đủ thông tin", "en": "no informative item left"},
    "stop_max_items": {"vi": "đã đủ số câu tối đa", "en": "maximum length reached"},
    "stop_no_items": {"vi": "hết câu hỏi phù hợp", "en": "no eligible item left"},
    # plots and study reports
    "plot_path": {"vi": "θ̂ sau mỗi câu (± 1 sai số chuẩn)", "en": "θ̂ after each answer (± 1 SE)"},
    "plot_info": {"vi": "Lượng thông tin của các câu đã làm", "en": "Information of the items given"},
    "plot_cse": {"vi": "Sai số chuẩn có điều kiện", "en": "Conditional standard error"},
    "plot_exposure": {"vi": "Tỉ lệ sử dụng câu hỏi", "en": "Item exposure rates"},
    "items_axis": {"vi": "số câu đã làm", "en": "items answered"},
    "study": {"vi": "Nghiên cứu mô phỏng", "en": "Simulation study"},
    "summary": {"vi": "Tóm tắt", "en": "Summary"},
}


def t(key: str, lang: str = "vi", **fields: object) -> str:
    """The interface text ``key`` in ``lang`` (English when the language has none), with ``fields`` filled in."""
    entry = _TEXT[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**fields) if fields else text


def stop_reason(reason: str | None, lang: str = "vi") -> str:
    """A stop reason of the engine in words."""
    key = f"stop_{reason}"
    return t(key, lang) if key in _TEXT else str(reason)
