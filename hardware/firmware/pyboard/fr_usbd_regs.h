/* STM32F405 USB OTG_FS registers used by the device driver (fr_usbd.c), as
 * byte offsets from the OTG_FS base (0x5000 0000), written from RM0090
 * chapter 34 "USB on-the-go full-speed (OTG_FS)", its register map and
 * register descriptions. Names are RM0090's, with OTG_ for its OTG_FS_ prefix.
 * Only device-mode registers and the bits this driver touches are here. */
#ifndef FR_USBD_REGS_H
#define FR_USBD_REGS_H
#include <stdint.h>

#define OTG_FS_BASE_ADDR 0x50000000u

/* ------------------------------------------------- core global registers */

#define OTG_GOTGINT 0x004u /* OTG interrupt (write 1 to clear) */
#define OTG_GOTGINT_SEDET (1u << 2) /* session end detected: VBUS fell below the B-session valid level */

#define OTG_GAHBCFG 0x008u /* AHB configuration */
#define OTG_GAHBCFG_GINTMSK (1u << 0) /* global interrupt mask: 1 lets the core assert its interrupt line */

#define OTG_GUSBCFG 0x00Cu /* USB configuration */
#define OTG_GUSBCFG_PHYSEL (1u << 6) /* full-speed serial transceiver (always 1 on OTG_FS) */
#define OTG_GUSBCFG_TRDT(n) ((uint32_t)(n) << 10) /* USB turnaround time, bits 13:10 */
#define OTG_GUSBCFG_FDMOD (1u << 30) /* force device mode */

#define OTG_GRSTCTL 0x010u /* reset control */
#define OTG_GRSTCTL_CSRST (1u << 0) /* core soft reset, self-clearing */
#define OTG_GRSTCTL_RXFFLSH (1u << 4) /* RX FIFO flush, self-clearing */
#define OTG_GRSTCTL_TXFFLSH (1u << 5) /* TX FIFO flush, self-clearing */
#define OTG_GRSTCTL_TXFNUM(n) ((uint32_t)(n) << 6) /* TX FIFO number to flush, bits 10:6 */
#define OTG_TXFNUM_ALL 0x10u /* TXFNUM value that flushes all TX FIFOs */
#define OTG_GRSTCTL_AHBIDL (1u << 31) /* AHB master idle */

#define OTG_GINTSTS 0x014u /* core interrupt status (the event bits are write 1 to clear) */
#define OTG_GINTMSK 0x018u /* core interrupt mask: same bit positions as OTG_GINTSTS */
#define OTG_GINT_CMOD (1u << 0) /* current mode: 0 device, 1 host (OTG_GINTSTS only) */
#define OTG_GINT_OTGINT (1u << 2) /* OTG interrupt: read OTG_GOTGINT (read-only summary) */
#define OTG_GINT_RXFLVL (1u << 4) /* RX FIFO non-empty (read-only summary) */
#define OTG_GINT_USBSUSP (1u << 11) /* USB suspend */
#define OTG_GINT_USBRST (1u << 12) /* USB reset */
#define OTG_GINT_ENUMDNE (1u << 13) /* enumeration done */
#define OTG_GINT_IEPINT (1u << 18) /* IN endpoint interrupt: read OTG_DAINT (read-only summary) */
#define OTG_GINT_OEPINT (1u << 19) /* OUT endpoint interrupt: read OTG_DAINT (read-only summary) */
#define OTG_GINT_WKUPINT (1u << 31) /* resume / remote wakeup detected */

#define OTG_GRXSTSP 0x020u /* receive status read and pop (device mode layout) */
#define OTG_GRXSTSP_EPNUM(s) ((s) & 0xFu) /* bits 3:0 */
#define OTG_GRXSTSP_BCNT(s) (((s) >> 4) & 0x7FFu) /* bits 14:4 */
#define OTG_GRXSTSP_PKTSTS(s) (((s) >> 17) & 0xFu) /* bits 20:17 */
#define OTG_PKTSTS_OUT_DATA 2u /* OUT data packet received (BCNT bytes follow in the FIFO) */
#define OTG_PKTSTS_OUT_DONE 3u /* OUT transfer completed (raises DOEPINTx.XFRC) */
#define OTG_PKTSTS_SETUP_DONE 4u /* SETUP transaction completed (raises DOEPINT0.STUP) */
#define OTG_PKTSTS_SETUP_DATA 6u /* SETUP data packet received (8 bytes follow) */

#define OTG_GRXFSIZ 0x024u /* RX FIFO size in words (RXFD, bits 15:0) */
#define OTG_DIEPTXF0 0x028u /* EP0 TX FIFO: start address (bits 15:0) and depth (bits 31:16), in words */
#define OTG_DIEPTXF(n) (0x104u + 4u * ((n) - 1u)) /* TX FIFO of IN endpoint n = 1..3, same layout */
#define OTG_TXF(start, depth) ((uint32_t)(start) | ((uint32_t)(depth) << 16))

#define OTG_GCCFG 0x038u /* general core configuration */
#define OTG_GCCFG_PWRDWN (1u << 16) /* 1: transceiver powered (power down deactivated) */
#define OTG_GCCFG_VBUSBSEN (1u << 19) /* VBUS sensing on PA9 for the B-device (peripheral) role */
#define OTG_GCCFG_NOVBUSSENS (1u << 21) /* 1: VBUS taken as always valid, PA9 not sensed */

/* ------------------------------------------------ device-mode registers */

#define OTG_DCFG 0x800u /* device configuration */
#define OTG_DCFG_DSPD_FS 3u /* device speed, bits 1:0: 11 = full speed, internal PHY */
#define OTG_DCFG_DAD_SHIFT 4u /* device address, bits 10:4 */
#define OTG_DCFG_DAD_MASK (0x7Fu << OTG_DCFG_DAD_SHIFT)

#define OTG_DCTL 0x804u /* device control */
#define OTG_DCTL_SDIS (1u << 1) /* soft disconnect: 1 removes the D+ pull-up */

#define OTG_DSTS 0x808u /* device status */

#define OTG_DIEPMSK 0x810u /* IN endpoint common interrupt mask */
#define OTG_DOEPMSK 0x814u /* OUT endpoint common interrupt mask */
#define OTG_DAINT 0x818u /* all endpoints interrupt: IN endpoints bits 15:0, OUT endpoints bits 31:16 */
#define OTG_DAINTMSK 0x81Cu /* same layout as OTG_DAINT */
#define OTG_DAINT_IN(ep) (1u << (ep))
#define OTG_DAINT_OUT(ep) (1u << (16u + (ep)))

#define OTG_DIEPCTL(ep) (0x900u + 0x20u * (ep)) /* IN endpoint control */
#define OTG_DIEPINT(ep) (0x908u + 0x20u * (ep)) /* IN endpoint interrupt (write 1 to clear) */
#define OTG_DIEPTSIZ(ep) (0x910u + 0x20u * (ep)) /* IN endpoint transfer size */
#define OTG_DOEPCTL(ep) (0xB00u + 0x20u * (ep)) /* OUT endpoint control */
#define OTG_DOEPINT(ep) (0xB08u + 0x20u * (ep)) /* OUT endpoint interrupt (write 1 to clear) */
#define OTG_DOEPTSIZ(ep) (0xB10u + 0x20u * (ep)) /* OUT endpoint transfer size */

/* DIEPCTLx / DOEPCTLx */
#define OTG_EPCTL_MPSIZ(n) ((uint32_t)(n)) /* maximum packet size, bits 10:0 (EP0: bits 1:0, 00 = 64 bytes) */
#define OTG_EPCTL_MPSIZ_MASK 0x7FFu
#define OTG_EPCTL_USBAEP (1u << 15) /* endpoint active in the current configuration */
#define OTG_EPCTL_EPTYP(t) ((uint32_t)(t) << 18) /* bits 19:18 */
#define OTG_EPCTL_EPTYP_MASK (3u << 18)
#define OTG_EPTYP_BULK 2u
#define OTG_EPTYP_INTERRUPT 3u
#define OTG_EPCTL_STALL (1u << 21) /* STALL handshake (EP0: the core clears it on the next SETUP) */
#define OTG_EPCTL_TXFNUM(n) ((uint32_t)(n) << 22) /* TX FIFO number, bits 25:22 (IN only) */
#define OTG_EPCTL_TXFNUM_MASK (0xFu << 22)
#define OTG_EPCTL_CNAK (1u << 26) /* clear NAK (write only) */
#define OTG_EPCTL_SNAK (1u << 27) /* set NAK (write only) */
#define OTG_EPCTL_SD0PID (1u << 28) /* set DATA0 PID (write only) */
#define OTG_EPCTL_EPDIS (1u << 30) /* endpoint disable */
#define OTG_EPCTL_EPENA (1u << 31) /* endpoint enable: cleared by the core when the transfer completes */

/* DIEPINTx / DOEPINTx and the OTG_DIEPMSK / OTG_DOEPMSK masks */
#define OTG_EPINT_XFRC (1u << 0) /* transfer completed */
#define OTG_DOEPINT_STUP (1u << 3) /* SETUP phase done (EP0 OUT) */

/* DIEPTSIZx / DOEPTSIZx */
#define OTG_TSIZ_XFRSIZ(n) ((uint32_t)(n)) /* transfer size in bytes, bits 18:0 (EP0: bits 6:0) */
#define OTG_TSIZ_PKTCNT(n) ((uint32_t)(n) << 19) /* packet count, bits 28:19 (DIEPTSIZ0: 20:19, DOEPTSIZ0: bit 19) */
#define OTG_DOEPTSIZ0_STUPCNT(n) ((uint32_t)(n) << 29) /* back-to-back SETUP packets EP0 may take, bits 30:29 */

/* Data FIFO windows: a 4 KB region per endpoint. A write anywhere in region n
 * pushes a word into IN endpoint n's TX FIFO; a read pops the RX FIFO. */
#define OTG_DFIFO(ep) (0x1000u + 0x1000u * (ep))

#endif
