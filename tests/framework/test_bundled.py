"""Bundled frameworks, scales and crosswalks load, keep their code contracts and honest provenance."""

from __future__ import annotations

import pytest

from digicomp.framework import (
    find_crosswalk,
    list_crosswalks,
    list_frameworks,
    list_scales,
    load_crosswalk,
    load_framework,
    load_scale,
)

FRAMEWORK_IDS = ["digcomp-2.2", "vn-civil-service", "vn-public-security", "vn-tt02-2025"]
DIGCOMP_CODES = [
    "1.1",
    "1.2",
    "1.3",
    "2.1",
    "2.2",
    "2.3",
    "2.4",
    "2.5",
    "2.6",
    "3.1",
    "3.2",
    "3.3",
    "3.4",
    "4.1",
    "4.2",
    "4.3",
    "4.4",
    "5.1",
    "5.2",
    "5.3",
    "5.4",
]
VN_PROFILE_CODES = ["0.1", "0.2", *DIGCOMP_CODES, "6.1", "6.2", "6.3", "7.1", "7.2", "7.3", "7.4"]
VN_LABELS = ["CB1", "CB2", "TC1", "TC2", "NC1", "NC2", "CS1", "CS2"]
BANDS = [
    "foundation",
    "foundation",
    "intermediate",
    "intermediate",
    "advanced",
    "advanced",
    "highly_specialised",
    "highly_specialised",
]


def test_catalogue_lists_every_bundled_framework_with_status():
    infos = {i.id: i for i in list_frameworks()}
    assert sorted(infos) == FRAMEWORK_IDS
    assert infos["vn-public-security"].status == "placeholder"
    assert infos["vn-civil-service"].status == "inferred"


@pytest.mark.parametrize("ident", FRAMEWORK_IDS)
def test_bundled_framework_loads_with_bilingual_texts(ident):
    fw = load_framework(ident)
    assert fw.id == ident
    assert fw.title.vi.strip() and fw.title.en.strip()
    for node in [*fw.areas, *fw.competences]:
        assert node.name.vi.strip() and node.name.en.strip()
        assert node.description.vi.strip() and node.description.en.strip()
    for lv in fw.level_list:
        assert lv.descriptor.vi and lv.descriptor.en and lv.band.description.vi and lv.band.description.en


@pytest.mark.parametrize("ident", list_scales())
def test_bundled_scale_loads(ident):
    assert load_scale(ident).id == ident


@pytest.mark.parametrize("ident", list_crosswalks())
def test_bundled_crosswalk_loads_against_both_frameworks(ident):
    cw = load_crosswalk(ident)
    assert ident == f"{cw.from_.framework}--{cw.to.framework}"


def test_crosswalks_connect_every_pair_of_bundled_frameworks():
    for i, a in enumerate(FRAMEWORK_IDS):
        for b in FRAMEWORK_IDS[i + 1 :]:
            assert find_crosswalk(a, b).mappings


def test_digcomp_has_5_areas_21_competences_8_levels():
    fw = load_framework("digcomp-2.2")
    assert [a.code for a in fw.areas] == ["1", "2", "3", "4", "5"]
    assert fw.codes == DIGCOMP_CODES
    assert [lv.level for lv in fw.level_list] == list(range(1, 9))


def test_tt02_has_6_domains_24_competences_and_cb1_to_cs2():
    fw = load_framework("vn-tt02-2025")
    assert [a.code for a in fw.areas] == ["1", "2", "3", "4", "5", "6"]
    assert fw.codes == [*DIGCOMP_CODES, "6.1", "6.2", "6.3"]
    assert [lv.label for lv in fw.level_list] == VN_LABELS
    assert fw.area("6").name.vi == "Ứng dụng trí tuệ nhân tạo"


@pytest.mark.parametrize("ident", ["vn-civil-service", "vn-public-security"])
def test_vietnamese_profiles_keep_the_contracted_codes_and_levels(ident):
    fw = load_framework(ident)
    assert fw.codes == VN_PROFILE_CODES
    assert [a.code for a in fw.areas] == ["0", "1", "2", "3", "4", "5", "6", "7"]
    expected = list(zip(range(1, 9), VN_LABELS, BANDS))
    assert [(lv.level, lv.label, lv.band.id) for lv in fw.level_list] == expected
    assert fw.area("0").name.vi == "Sử dụng thiết bị và phần mềm"
    assert fw.competence("0.2").name.vi == "Sử dụng phần mềm trên thiết bị"
    assert fw.competence("6.1").name.vi == "Hiểu biết về trí tuệ nhân tạo (trong đó có AI tạo sinh)"
    assert fw.competence("2.5").name.vi == "Thực hiện quy tắc ứng xử trên mạng"
    assert fw.area_of("7.2").code == "7"


def test_civil_service_area_7_is_digital_government_work():
    fw = load_framework("vn-civil-service")
    assert fw.area("7").name.vi == "Công vụ trên môi trường số"
    assert [c.name.vi for c in fw.area("7").competences] == [
        "Văn bản điện tử và chữ ký số",
        "Dịch vụ công trực tuyến",
        "Khai thác và chia sẻ cơ sở dữ liệu quốc gia, dữ liệu chuyên ngành",
        "Sử dụng trợ lý AI an toàn trong công vụ",
    ]


def test_public_security_area_7_is_police_work_and_all_placeholder():
    fw = load_framework("vn-public-security")
    area = fw.area("7")
    assert area.name.vi == "Nghiệp vụ Công an trên môi trường số"
    assert [c.name.en for c in area.competences] == [
        "Using professional (police) software and databases",
        "Guiding citizens through VNeID and online public services",
        "Protecting state secrets and information security",
        "Recognising and preventing high-tech crime",
    ]
    assert {area.status, *(c.status for c in area.competences)} == {"placeholder"}


@pytest.mark.parametrize("ident", ["vn-civil-service", "vn-public-security"])
def test_nothing_of_the_project_proposals_poses_as_official(ident):
    fw = load_framework(ident)
    assert fw.status != "official"
    for code in ["0.1", "0.2", "6.1", "6.2", "6.3", "7.1", "7.2", "7.3", "7.4"]:
        assert fw.competence(code).status != "official", code
    assert all(lab.status != "official" for lab in fw.levels)


@pytest.mark.parametrize("ident", FRAMEWORK_IDS)
def test_official_nodes_cite_an_identified_document(ident):
    fw = load_framework(ident)
    for node in [fw, *fw.areas, *fw.competences, *fw.levels]:
        if node.status == "official":
            assert any(fw.sources[key].document for key in node.source), getattr(node, "code", node)


def test_level_and_band_texts_in_both_languages():
    fw = load_framework("vn-tt02-2025")
    assert fw.describe_level("TC1", "vi")[0] == "TC1 — Trung cấp 1"
    assert fw.describe_level(3, "en")[0] == "TC1 — Intermediate 1"
    assert fw.band_of("CS2").id == "highly_specialised"
    assert fw.describe_band("foundation", "vi")[0] == "Cơ bản"
    assert fw.level(5).autonomy.en == "Guiding others"


def test_unknown_bundled_id_is_a_clean_error_listing_what_exists():
    from digicomp.errors import FrameworkError

    with pytest.raises(FrameworkError, match="no bundled framework named 'vn-police'.*vn-public-security"):
        load_framework("vn-police")
