"""English–Korean glossary of the course's technical terms.

The course follows a Korean study note, so every term a lesson uses is listed here with the
words Korean practitioners actually say. Where both a loanword (``컨볼루션``) and a native term
(``합성곱``) are in use, both are given, separated by `` / ``; the first is the one the Korean
summaries of the lessons use. ``docs/glossary.md`` is generated from this table::

    python -m segedu.course.glossary > docs/glossary.md

Example:
    >>> from segedu.course.glossary import GLOSSARY, lookup
    >>> lookup("transposed convolution").korean
    '전치 합성곱 / 트랜스포즈드 컨볼루션'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Term", "GLOSSARY", "lookup", "glossary_markdown"]


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Attributes:
        english: The term as the English lessons write it (lower case unless a name).
        korean: The Korean term(s), alternatives separated by `` / ``; a parenthesis adds the
            abbreviation or spelling people also use.
        note: A short explanation in Korean, or where the course meets the term.
    """

    english: str
    korean: str
    note: str = ""

    @property
    def korean_forms(self) -> tuple[str, ...]:
        """The Korean alternatives without their parentheses, e.g. ``("합성곱", "컨볼루션")``."""
        forms = (re.sub(r"\s*\(.*?\)", "", form).strip() for form in self.korean.split(" / "))
        return tuple(form for form in forms if form)


GLOSSARY: tuple[Term, ...] = (
    # --- The task -------------------------------------------------------------------------
    Term("semantic segmentation", "시맨틱 세그멘테이션 / 의미론적 분할",
         "이미지의 모든 픽셀을 클래스로 분류하는 작업. 같은 클래스의 인스턴스는 구별하지 않는다."),
    Term("segmentation", "세그멘테이션 / 분할", "이미지를 영역으로 나누는 작업 전반."),
    Term("dense prediction", "밀집 예측 (dense prediction)",
         "모든 픽셀에 대해 예측한다는 뜻. 현업에서는 영어 그대로 부르는 경우가 많다."),
    Term("pixel", "픽셀 / 화소"),
    Term("class", "클래스 / 범주", "예측할 범주. 이 과정에서는 배경, 원, 사각형, 삼각형 또는 숫자 0–9."),
    Term("background", "배경", "어느 객체에도 속하지 않는 픽셀의 클래스(0번)."),
    Term("instance", "인스턴스 / 개체", "같은 클래스에 속하는 객체 하나하나."),
    Term("instance segmentation", "인스턴스 세그멘테이션 / 인스턴스 분할",
         "픽셀마다 클래스를 정하고 같은 클래스의 객체끼리도 구별한다."),
    Term("connected region", "연결 영역 / 연결 성분 (connected component)",
         "한 클래스의 픽셀 중 상하좌우로 이어진 덩어리. 같은 클래스의 객체가 맞닿거나 겹치면 하나가 된다."),
    Term("panoptic segmentation", "파놉틱 세그멘테이션 / 파놉틱 분할",
         "모든 픽셀에 클래스 하나를, 셀 수 있는 객체의 픽셀에는 객체 번호도 하나 붙인다(겹침 없음; Kirillov 외, 2019)."),
    Term("object detection", "객체 탐지 / 물체 검출", "객체마다 바운딩 박스와 클래스를 찾는다."),
    Term("bounding box", "바운딩 박스 / 경계 상자"),
    Term("classification", "분류 / 이미지 분류", "이미지 전체에 클래스 레이블 하나를 붙인다 (여러 개를 붙이면 다중 레이블 분류)."),
    Term("multi-label", "다중 레이블 (멀티 레이블)", "한 이미지에 여러 클래스가 동시에 있을 수 있는 분류."),
    Term("label", "레이블 / 라벨", "정답 클래스 번호."),
    Term("mask", "마스크", "픽셀마다 클래스 번호를 담은 (H, W) 배열. segmentation map과 같은 뜻."),
    Term("segmentation map", "세그멘테이션 맵 / 분할 맵", "마스크와 같은 뜻."),
    Term("grayscale", "그레이스케일 / 흑백", "채널이 하나인 이미지 (1, H, W)."),
    Term("class imbalance", "클래스 불균형", "배경 픽셀이 대부분이라 픽셀 정확도가 쉽게 높아 보인다."),
    # --- Outputs and losses -------------------------------------------------------------------
    Term("one-hot encoding", "원-핫 인코딩", "마스크를 클래스마다 0/1 채널 하나로 바꾼다: (H, W) → (K, H, W)."),
    Term("argmax", "아그맥스 (argmax)", "가장 큰 값의 인덱스. 클래스 축에 적용하면 점수 맵이 마스크가 된다."),
    Term("softmax", "소프트맥스", "점수를 픽셀별 확률로 바꾼다. 순서를 보존하므로 argmax 결과는 그대로다."),
    Term("logits", "로짓", "소프트맥스 전의 원시 점수 (B, K, H, W)."),
    Term("score", "점수 / 스코어", "로짓과 같은 뜻으로 쓴다."),
    Term("probability", "확률"),
    Term("temperature", "온도 (temperature)", "점수를 나누는 값. 확신도는 바뀌지만 예측은 바뀌지 않는다."),
    Term("cross-entropy", "교차 엔트로피 / 크로스 엔트로피", "정답 클래스 확률 p에 대해 −log p."),
    Term("loss", "손실 / 로스", "학습이 줄이려는 값. 세그멘테이션에서는 픽셀별 손실의 평균."),
    Term("loss map", "손실 맵", "픽셀마다의 손실을 그림으로 그린 것."),
    Term("ignore index", "무시 인덱스 (ignore_index)",
         "레이블이 없는 픽셀(이 과정에서는 255). 손실과 지표 계산에서 빠진다."),
    Term("class weight", "클래스 가중치", "픽셀 손실에 그 픽셀의 정답 클래스에 따라 곱하는 값. 드문 클래스를 키운다."),
    Term("weighted cross-entropy", "가중 교차 엔트로피",
         "픽셀마다 정답 클래스의 가중치를 곱하고 가중치 합으로 나눈 교차 엔트로피. 가중치의 비율만 중요하다."),
    Term("inverse frequency", "역빈도 (역빈도 가중치)", "클래스 가중치를 그 클래스의 픽셀 비율의 역수로 둔다."),
    Term("median frequency balancing", "중앙값 빈도 균형화 (median frequency balancing)",
         "가중치 = 클래스 빈도의 중앙값 / 그 클래스의 빈도. 빈도는 그 클래스가 나오는 이미지의 픽셀로만 센다 (SegNet)."),
    Term("Dice coefficient", "다이스 계수", "두 집합의 겹침 2|A∩B| / (|A| + |B|). F1 점수와 같다."),
    Term("Dice loss", "다이스 손실 / 소프트 다이스 손실",
         "확률로 계산한 클래스별 다이스 계수의 평균을 1에서 뺀 손실. 픽셀 수와 상관없이 클래스마다 같은 무게."),
    Term("weight map", "가중치 맵", "픽셀마다 손실에 곱할 가중치. U-Net은 붙어 있는 객체 사이의 틈을 무겁게 한다."),
    Term("per-class IoU", "클래스별 IoU", "클래스 하나하나의 IoU. 불균형 데이터에서는 평균보다 이 표를 본다."),
    Term("paired comparison", "짝지은 비교 / 대응 비교",
         "같은 시드(같은 초기 가중치와 배치)로 돌린 두 방법의 차이를 시드마다 보는 비교. 시드의 운이 상쇄된다."),
    Term("sign test", "부호 검정",
         "짝지은 차이의 부호만 세는 검정. 효과가 없으면 각 시드가 어느 쪽이든 1/2로 이기므로, n개 시드 모두 이길 확률은 1/2^n. 가설을 떠올리게 한 시드는 세지 않는다."),
    Term("controlled experiment", "통제 실험 / 대조 실험",
         "비교하려는 한 가지만 바꾸고 나머지(모델, 데이터, 예산, 시드)는 모두 같게 둔 실험. 차이를 그 한 가지 탓으로 돌릴 수 있다."),
    # --- Building blocks ----------------------------------------------------------------------
    Term("tensor", "텐서"),
    Term("channel", "채널"),
    Term("feature map", "특징 맵 / 피처 맵", "합성곱 층이 출력하는 채널별 2차원 배열."),
    Term("feature", "특징 / 피처"),
    Term("convolution", "합성곱 / 컨볼루션"),
    Term("kernel", "커널 / 필터", "합성곱의 가중치 창."),
    Term("weight", "가중치 / 웨이트"),
    Term("stride", "스트라이드 / 보폭", "커널이 한 번에 움직이는 칸 수. 2 이상이면 다운샘플링이 된다."),
    Term("strided convolution", "스트라이드 합성곱 (strided convolution)", "스트라이드 2 이상의 합성곱."),
    Term("padding", "패딩", "입력 가장자리에 값을 덧대어 출력 크기를 맞춘다."),
    Term("zero padding", "제로 패딩"),
    Term("same padding", "same 패딩", "출력 크기를 입력과 같게 하는 패딩."),
    Term("valid convolution", "valid 합성곱 (패딩 없는 합성곱)", "U-Net 논문의 방식. 3×3마다 가장자리가 1픽셀씩 줄어든다."),
    Term("1x1 convolution", "1×1 합성곱", "위치마다 채널만 섞는다. FCN의 점수 층."),
    Term("receptive field", "수용 영역 / 수용장", "출력 한 픽셀이 볼 수 있는 입력 영역."),
    Term("effective receptive field", "유효 수용 영역",
         "수용 영역 중 출력에 실제로 크게 영향을 주는 부분. 출력 한 픽셀의 입력에 대한 그래디언트로 잰다 (Luo 외, 2016)."),
    Term("pooling", "풀링"),
    Term("max pooling", "최대 풀링 / 맥스 풀링"),
    Term("average pooling", "평균 풀링"),
    Term("pooling indices", "풀링 인덱스 / 스위치", "최대 풀링에서 최댓값이 있던 위치. SegNet이 디코더로 넘긴다."),
    Term("fully connected layer", "완전 연결 층 / 전결합층 (FC 층)",
         "입력 크기를 고정하고 위치 정보를 섞어 버린다."),
    Term("activation function", "활성화 함수"),
    Term("ReLU", "렐루 (ReLU)"),
    Term("batch", "배치 / 미니배치"),
    Term("batch normalization", "배치 정규화 (BatchNorm)"),
    Term("linear probe", "선형 프로브", "층의 특징에 선형 모델만 얹어 어떤 정보가 남았는지 재는 방법."),
    Term("bootstrap", "부트스트랩",
         "표본을 복원 추출로 여러 번 다시 뽑아, 평균 같은 측정값이 표본에 따라 얼마나 흔들리는지 재는 방법."),
    Term("random projection", "무작위 투영",
         "고정된 무작위 가중치로 특징을 더 적은 수의 숫자로 섞는 것. 학습 없이 폭만 줄였을 때의 기준선이 된다."),
    Term("forward hook", "포워드 훅", "모델을 고치지 않고 층의 출력을 기록하는 PyTorch 기능."),
    Term("mean ablation", "평균 절제 / 평균값 대체",
         "채널을 0 대신 데이터 전체의 평균값으로 바꿔 끄는 방법. 채널의 평균 수준은 두고 변화만 없앤다."),
    Term("forward pre-hook", "포워드 프리 훅", "층이 실행되기 직전에 그 입력을 보거나 바꾸는 PyTorch 기능."),
    Term("gradient", "기울기 / 그래디언트"),
    Term("backpropagation", "역전파"),
    # --- Shrinking and growing ----------------------------------------------------------------
    Term("downsampling", "다운샘플링", "특징 맵의 크기를 줄인다. 스트라이드 합성곱이나 풀링을 쓴다."),
    Term("upsampling", "업샘플링", "특징 맵을 입력 크기로 되돌린다."),
    Term("encoder", "인코더", "다운샘플링하는 부분. 이미지 정보를 압축한다."),
    Term("decoder", "디코더", "업샘플링하는 부분. 원하는 출력 크기로 되돌린다."),
    Term("encoder-decoder", "인코더-디코더 구조", "FCN, SegNet, U-Net 모두 이 구조다."),
    Term("bottleneck", "병목 / 보틀넥", "인코더의 가장 작은 특징 맵."),
    Term("aliasing", "에일리어싱", "간격을 두고 샘플링할 때 세밀한 무늬가 엉뚱한 굵은 무늬로 보이는 현상."),
    Term("Nyquist limit", "나이퀴스트 한계 / 나이퀴스트 주파수",
         "간격 s로 샘플링한 격자가 나타낼 수 있는 가장 세밀한 무늬: 주기 2s 픽셀(주파수 1/(2s)). 더 세밀하면 에일리어싱이 된다."),
    Term("anti-aliasing", "안티에일리어싱", "서브샘플링 전에 블러로 격자가 나타낼 수 없는 세밀한 무늬를 줄이는 것."),
    Term("shift equivariance", "이동 등변성 / 평행 이동 등변성",
         "입력을 옮기면 출력도 똑같이 옮겨지는 성질. 합성곱은 지키고, 스트라이드 s인 다운샘플링은 s의 배수만큼 옮길 때만 지킨다."),
    Term("transposed convolution", "전치 합성곱 / 트랜스포즈드 컨볼루션",
         "학습 가능한 업샘플링. 입력 픽셀마다 커널을 찍는다. '디컨볼루션'이라고 잘못 부르기도 한다."),
    Term("deconvolution", "디컨볼루션 / 역합성곱", "전치 합성곱의 옛 이름. 합성곱의 역연산은 아니다."),
    Term("bilinear interpolation", "쌍선형 보간 / 바이리니어 보간", "이웃 네 값을 거리에 따라 섞는다."),
    Term("nearest neighbour", "최근접 이웃 보간 / 니어리스트 네이버", "가장 가까운 값을 복사한다."),
    Term("bed of nails", "베드 오브 네일스 (bed of nails)", "값을 창의 한 칸(왼쪽 위)에 두고 나머지는 0으로 채운다."),
    Term("unpooling", "언풀링"),
    Term("max unpooling", "최대 언풀링 / 맥스 언풀링", "풀링 인덱스가 가리키는 자리에 값을 되돌려 놓는다."),
    Term("checkerboard artefact", "체커보드 아티팩트 / 바둑판 무늬",
         "artifact라고도 쓴다. 커널 크기가 스트라이드로 나누어떨어지지 않을 때 전치 합성곱이 남기는 격자 무늬."),
    Term("sub-pixel convolution", "서브픽셀 합성곱 / 픽셀 셔플 (pixel shuffle)",
         "작은 해상도에서 합성곱으로 채널을 stride²배 만든 뒤 픽셀 셔플로 끼워 넣어 키우는 업샘플링 (Shi 외, 2016)."),
    # --- Architectures ------------------------------------------------------------------------
    Term("skip connection", "스킵 연결 / 스킵 커넥션",
         "인코더의 정보를 디코더로 바로 건네는 연결. shortcut connection과 같은 뜻."),
    Term("shortcut connection", "숏컷 연결 / 지름길 연결", "skip connection과 같은 뜻. 연구 노트가 쓰는 말."),
    Term("concatenation", "연결 / 이어 붙이기 (concat)", "U-Net이 인코더 특징 맵을 채널 방향으로 이어 붙이는 방식."),
    Term("crop", "크롭 / 잘라내기"),
    Term("FCN", "완전 합성곱 신경망 (FCN)", "fully convolutional network. 분류기의 FC 층을 합성곱으로 바꾼다."),
    Term("convolutionalization", "합성곱화 / 컨볼루션화",
         "FC 층을 같은 일을 하는 합성곱으로 바꿔 어떤 크기의 입력에도 쓸 수 있게 하는 것."),
    Term("SegNet", "세그넷 (SegNet)", "풀링 인덱스로 업샘플링하는 인코더-디코더."),
    Term("U-Net", "유넷 (U-Net)", "인코더 특징 맵을 복사해 이어 붙이는 U자 모양 네트워크."),
    Term("overlap-tile", "오버랩 타일 / 겹침 타일 전략", "큰 이미지를 여백이 겹치는 타일로 나눠 분할한다."),
    Term("VGG", "VGG넷 / 브이지지 (VGG)", "3×3 합성곱을 쌓은 분류 신경망. FCN과 SegNet의 인코더."),
    Term("AlexNet", "알렉스넷 (AlexNet)"),
    Term("atrous convolution", "아트러스 합성곱 / 팽창 합성곱", "dilated convolution과 같은 뜻."),
    Term("dilated convolution", "팽창 합성곱 / 확장 합성곱 / 딜레이티드 컨볼루션",
         "커널 사이에 간격을 두어 다운샘플링 없이 수용 영역을 넓힌다."),
    Term("DeepLab", "딥랩 (DeepLab)", "팽창 합성곱을 쓰는 세그멘테이션 모델 계열."),
    Term("atrous rate", "아트러스 비율 / 팽창률 (dilation rate)", "팽창 합성곱에서 커널 탭 사이의 간격 r. 3×3 커널은 2r + 1 픽셀에 걸친다."),
    Term("output stride", "출력 스트라이드 (output stride)",
         "입력 크기를 인코더 마지막 특징 맵 크기로 나눈 값. DeepLab은 8이나 16에서 멈추고 그 뒤는 팽창 합성곱을 쓴다."),
    Term("atrous spatial pyramid pooling", "아트러스 공간 피라미드 풀링 (ASPP)",
         "1×1 합성곱, 비율이 다른 3×3 팽창 합성곱들, 이미지 수준 풀링을 나란히 두고 이어 붙이는 DeepLab의 헤드."),
    Term("image-level pooling", "이미지 수준 풀링 / 전역 평균 풀링 가지",
         "ASPP에서 특징 맵 전체를 평균해 모든 위치에 같은 요약 벡터를 주는 가지."),
    Term("gridding", "그리딩 / 격자 현상 (gridding artifact)",
         "팽창률들이 1보다 큰 공약수를 가지면 출력이 입력의 격자 위 픽셀만 읽고 나머지는 읽지 못하는 현상."),
    Term("residual unit", "잔차 유닛 / 잔차 블록 (residual block)", "출력에 입력을 더하는 지름길을 둔 ResNet의 기본 단위."),
    # --- Measuring ----------------------------------------------------------------------------
    Term("confusion matrix", "혼동 행렬 / 오차 행렬", "모든 지표는 이 행렬 하나에서 나온다."),
    Term("IoU", "교집합 대 합집합 비 (IoU)", "intersection over union. 자카드 지수라고도 한다."),
    Term("mean IoU", "평균 IoU (mIoU)", "클래스별 IoU의 평균. 없는 클래스는 NaN으로 빼고 평균한다."),
    Term("pixel accuracy", "픽셀 정확도", "맞힌 픽셀의 비율. 배경이 많으면 쉽게 높아진다."),
    Term("mean accuracy", "평균 정확도 (클래스별 정확도의 평균)"),
    Term("focal loss", "포컬 손실", "이미 확신하는 쉬운 픽셀의 손실을 (1 − p)^γ로 줄이는 교차 엔트로피 변형."),
    Term("frequency-weighted IoU", "빈도 가중 IoU", "클래스별 IoU를 픽셀 빈도로 가중 평균한 값."),
    Term("boundary", "경계 / 경계선", "객체의 가장자리. 오류는 대부분 여기에 몰린다."),
    Term("boundary band", "경계 띠 / 경계 영역", "경계에서 몇 픽셀 이내의 픽셀."),
    Term("recall", "재현율", "정답 픽셀 중 맞게 찾은 비율. 클래스별 재현율의 평균이 평균 정확도다."),
    Term("precision", "정밀도", "어떤 클래스라고 예측한 픽셀 중 실제로 그 클래스인 비율."),
    Term("parameter", "파라미터 / 매개변수", "학습되는 가중치의 수."),
    Term("multiply-accumulate", "곱셈-누산 (MAC)", "곱셈 한 번과 덧셈 한 번. 계산량을 세는 단위."),
    Term("activation memory", "활성화 메모리", "순전파 중 층의 출력을 저장하는 데 드는 메모리. 픽셀 수에 비례한다."),
    # --- Training -----------------------------------------------------------------------------
    Term("training", "학습 / 훈련"),
    Term("checkpoint", "체크포인트", "학습된 가중치를 저장한 파일."),
    Term("overfitting", "과적합 / 오버피팅", "학습 데이터에만 잘 맞고 새 데이터에서는 성능이 떨어지는 현상."),
    Term("generalisation gap", "일반화 격차 / 학습-검증 격차", "학습 데이터의 점수와 검증 데이터의 점수의 차이."),
    Term("learning rate", "학습률 / 러닝 레이트"),
    Term("optimizer", "옵티마이저 / 최적화 기법", "이 과정의 학습은 Adam을 쓴다."),
    Term("seed", "시드", "난수 생성을 고정해 같은 결과를 재현한다."),
    Term("training loop", "학습 루프 / 훈련 루프", "순전파, 손실, 역전파, 가중치 갱신을 배치마다 되풀이한다."),
    Term("epoch", "에폭 / 에포크", "학습 데이터를 한 번 다 도는 것."),
    Term("validation set", "검증 세트 / 검증 데이터", "학습에 쓰지 않고 학습 중 성능을 재는 데이터."),
    Term("learning curve", "학습 곡선", "학습 스텝에 따른 손실이나 점수의 변화를 그린 그래프."),
    Term("learning-rate schedule", "학습률 스케줄", "학습 중에 학습률을 바꾸는 규칙(워밍업, 코사인 감소 등)."),
    Term("learning-rate range test", "학습률 범위 테스트",
         "학습률을 스텝마다 같은 비율로 키우며 한 번 학습해, 손실이 다시 오르기 전의 학습률을 고른다."),
    Term("data augmentation", "데이터 증강", "이미지를 무작위로 바꿔 학습 데이터를 늘린다. 마스크도 똑같이 바꿔야 한다."),
    Term("elastic deformation", "탄성 변형", "부드러운 무작위 변위 필드로 이미지를 휘게 하는 증강. U-Net 논문이 강조했다."),
    Term("hash", "해시 (SHA-256)", "파일 내용에서 계산한 지문. 한 바이트만 바뀌어도 달라진다."),
)

_BY_ENGLISH = {term.english.lower(): term for term in GLOSSARY}


def lookup(english: str) -> Term:
    """Return the entry for an English term (case-insensitive).

    Raises:
        KeyError: if the term is not in the glossary; the message says where to add it.
    """
    try:
        return _BY_ENGLISH[english.lower()]
    except KeyError:
        raise KeyError(f"{english!r} is not in the glossary; add a Term to segedu/course/glossary.py") from None


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def glossary_markdown() -> str:
    """The glossary as a Markdown page (the contents of ``docs/glossary.md``)."""
    lines = [
        "# Glossary · 용어집",
        "",
        "Every technical term of the course, with the words Korean practitioners use. Where a",
        "loanword and a native term are both common, both are listed (`/`). Generated from",
        "`segedu/course/glossary.py`: `python -m segedu.course.glossary > docs/glossary.md`.",
        "",
        "| English | 한국어 | 설명 |",
        "|---|---|---|",
    ]
    for term in GLOSSARY:
        lines.append(f"| {_cell(term.english)} | {_cell(term.korean)} | {_cell(term.note)} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(glossary_markdown(), end="")
